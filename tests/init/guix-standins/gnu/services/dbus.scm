;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (gnu services dbus), for tests/init/guix.sh.
(define-module (gnu services dbus)
  #:use-module (gnu services)
  #:export (dbus-root-service-type polkit-service-type))

(define dbus-root-service-type
  (service-type (name 'dbus) (extensions '())))
(define polkit-service-type
  (service-type (name 'polkit) (extensions '())))
