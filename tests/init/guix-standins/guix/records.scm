;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (guix records), for tests/init/guix.sh: enough of
;; define-record-type* for the Guix files of this project and the other
;; stand-ins. A syntactic constructor takes (FIELD VALUE) clauses and
;; (inherit RECORD); a clause naming no field, a field given twice and a
;; missing field without a default are errors, as in Guix. Of the field
;; options only (default EXPR) is honoured; (thunked), (delayed),
;; (sanitize ...) are accepted and ignored (fields are evaluated at once).
(define-module (guix records)
  #:use-module (srfi srfi-9)
  #:export (define-record-type*))

(define-syntax field-default
  (lambda (s)
    (syntax-case s ()
      ((_) #'#f)
      ((_ (kw e) rest ...)
       (eq? (syntax->datum #'kw) 'default)
       #'(lambda () e))
      ((_ other rest ...) #'(field-default rest ...)))))

(define-syntax clause->pair
  (lambda (s)
    (syntax-case s ()
      ((_ (field value))
       #'(cons 'field (lambda () value))))))

(define (instantiate type-name ctor fields defaults accessors clauses)
  (define inherited
    (let ((c (assq 'inherit clauses)))
      (and c ((cdr c)))))
  (define given (filter (lambda (c) (not (eq? (car c) 'inherit))) clauses))
  (for-each (lambda (c)
              (unless (memq (car c) fields)
                (error "record has no such field" type-name (car c))))
            given)
  (let loop ((cs given))
    (unless (null? cs)
      (when (assq (caar cs) (cdr cs))
        (error "field given twice" type-name (caar cs)))
      (loop (cdr cs))))
  (apply ctor
         (map (lambda (field default accessor)
                (cond ((assq field given) => (lambda (c) ((cdr c))))
                      (inherited (accessor inherited))
                      (default (default))
                      (else (error "missing field value" type-name field))))
              fields defaults accessors)))

(define-syntax define-record-type*
  (lambda (s)
    (syntax-case s ()
      ((_ type syntactic-ctor ctor pred (field getter spec ...) ...)
       #'(begin
           (define-record-type type
             (ctor field ...)
             pred
             (field getter) ...)
           (define-syntax syntactic-ctor
             (lambda (x)
               (syntax-case x ()
                 ((_ clause (... ...))
                  #'(instantiate 'type ctor '(field ...)
                                 (list (field-default spec ...) ...)
                                 (list getter ...)
                                 (list (clause->pair clause) (... ...))))))))))))
