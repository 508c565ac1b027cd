;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (gnu home services), for tests/init/guix.sh.
(define-module (gnu home services)
  #:use-module (gnu services)
  #:export (home-xdg-configuration-files-service-type
            home-profile-service-type))

(define home-xdg-configuration-files-service-type
  (service-type (name 'home-xdg-configuration) (extensions '())))
(define home-profile-service-type
  (service-type (name 'home-profile) (extensions '())))
