;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (guix build union), for tests/init/guix.sh: a
;; builder's union-build is logged (union-build-calls), nothing is built.
(define-module (guix build union)
  #:export (union-build union-build-calls union-build-reset!))

(define %calls '())
(define (union-build-calls) (reverse %calls))
(define (union-build-reset!) (set! %calls '()))

(define* (union-build output inputs
                      #:key (create-all-directories? #f)
                      (log-port (current-error-port))
                      (symlink symlink)
                      (resolve-collision #f))
  (set! %calls (cons (list output inputs) %calls))
  #t)
