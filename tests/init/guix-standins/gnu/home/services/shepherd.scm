;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (gnu home services shepherd), for tests/init/guix.sh:
;; like Guix's, it re-exports the records of (gnu services shepherd).
(define-module (gnu home services shepherd)
  #:use-module (gnu services)
  #:use-module (gnu services shepherd)
  #:re-export (shepherd-service shepherd-action)
  #:export (home-shepherd-service-type))

(define home-shepherd-service-type
  (service-type (name 'home-shepherd) (extensions '())))
