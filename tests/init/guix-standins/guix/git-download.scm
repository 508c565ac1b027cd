;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (guix git-download), for tests/init/guix.sh:
;; git-predicate remembers the directory it was given.
(define-module (guix git-download)
  #:export (git-predicate git-predicate-directories))

(define %directories '())
(define (git-predicate-directories) %directories)

(define (git-predicate directory)
  (set! %directories (cons directory %directories))
  (lambda (file stat) #t))
