;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (guix licenses), for tests/init/guix.sh: a few of its
;; licenses, as symbols.
(define-module (guix licenses)
  #:export (expat bsd-3 gpl2+ gpl3+ lgpl2.1+))

(define expat 'expat)
(define bsd-3 'bsd-3)
(define gpl2+ 'gpl2+)
(define gpl3+ 'gpl3+)
(define lgpl2.1+ 'lgpl2.1+)
