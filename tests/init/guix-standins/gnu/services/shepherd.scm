;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (gnu services shepherd), for tests/init/guix.sh: the
;; <shepherd-service> and <shepherd-action> records with the fields Guix
;; has had since 2018 (documentation provision requirement one-shot?
;; respawn? start stop actions auto-start? modules); newer ones
;; (respawn-limit, respawn-delay, free-form) are left out on purpose, so
;; that a file using them, which older Guix refuses, fails here too.
(define-module (gnu services shepherd)
  #:use-module (guix records)
  #:use-module (guix gexp)
  #:use-module (gnu services)
  #:export (shepherd-root-service-type
            shepherd-service shepherd-service?
            shepherd-service-documentation shepherd-service-provision
            shepherd-service-requirement shepherd-service-one-shot?
            shepherd-service-respawn? shepherd-service-start
            shepherd-service-stop shepherd-service-actions
            shepherd-service-auto-start? shepherd-service-modules
            shepherd-action shepherd-action? shepherd-action-name
            shepherd-action-procedure shepherd-action-documentation))

(define shepherd-root-service-type
  (service-type (name 'shepherd-root) (extensions '())))

(define %default-modules
  '((shepherd service)
    ((guix build utils) #:hide (delete))
    (guix build syscalls)))

(define-record-type* <shepherd-service>
  shepherd-service make-shepherd-service
  shepherd-service?
  (documentation shepherd-service-documentation
                 (default "[No documentation.]"))
  (provision shepherd-service-provision)
  (requirement shepherd-service-requirement (default '()))
  (one-shot? shepherd-service-one-shot? (default #f))
  (respawn? shepherd-service-respawn? (default #t))
  (start shepherd-service-start)
  (stop shepherd-service-stop (default #~(const #f)))
  (actions shepherd-service-actions (default '()))
  (auto-start? shepherd-service-auto-start? (default #t))
  (modules shepherd-service-modules (default %default-modules)))

(define-record-type* <shepherd-action>
  shepherd-action make-shepherd-action
  shepherd-action?
  (name shepherd-action-name)
  (procedure shepherd-action-procedure)
  (documentation shepherd-action-documentation))
