;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (gnu services), for tests/init/guix.sh: service
;; types, services and extensions as records with Guix's field names, and
;; the service types the virt-broker files extend.
(define-module (gnu services)
  #:use-module (guix records)
  #:use-module (srfi srfi-9)
  #:export (service-type service-type? service-type-name
            service-type-extensions service-type-compose service-type-extend
            service-type-default-value service-type-description
            service-extension service-extension? service-extension-target
            service-extension-compute
            service service? service-kind service-value service-parameters
            etc-service-type profile-service-type activation-service-type))

(define &no-default-value '(no default value))

(define-record-type* <service-type>
  service-type make-service-type
  service-type?
  (name service-type-name)
  (extensions service-type-extensions)
  (compose service-type-compose (default #f))
  (extend service-type-extend (default #f))
  (default-value service-type-default-value (default &no-default-value))
  (description service-type-description (default #f))
  (location service-type-location (default #f)))

(define-record-type <service-extension>
  (service-extension target compute)
  service-extension?
  (target service-extension-target)
  (compute service-extension-compute))

(define-record-type <service>
  (make-service type value)
  service?
  (type service-kind)
  (value service-value))

(define service-parameters service-value)

(define* (service type #:optional (value &no-default-value))
  (let ((value (if (eq? value &no-default-value)
                   (service-type-default-value type)
                   value)))
    (when (eq? value &no-default-value)
      (error "service: no value and no default value for" (service-type-name type)))
    (make-service type value)))

(define etc-service-type
  (service-type (name 'etc) (extensions '())))
(define profile-service-type
  (service-type (name 'profile) (extensions '())))
(define activation-service-type
  (service-type (name 'activate) (extensions '())))
