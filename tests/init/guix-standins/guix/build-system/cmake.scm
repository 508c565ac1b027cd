;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (guix build-system cmake), for tests/init/guix.sh.
(define-module (guix build-system cmake)
  #:export (cmake-build-system))

(define cmake-build-system 'cmake-build-system)
