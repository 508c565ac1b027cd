;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (guix gexp), for tests/init/guix.sh. Guix's reader
;; syntax is registered as (guix gexp) does: #~E is (gexp E), #$E (ungexp
;; E), #$@E (ungexp-splicing E), #+E and #+@E their -native forms. A gexp
;; here is the S-expression it stands for, built when the gexp is: each
;; ungexp'd value is "lowered" as Guix would lower it into a store file's
;; code (a package, local-file, plain-file, mixed-text-file or file-append
;; becomes its /gnu/store file name, a gexp its S-expression, a list
;; element by element, anything else itself), so that the test can
;; evaluate the code that Shepherd would run. #$output is the builder's
;; (getenv "out"), the output's file name in a derivation's build. The
;; files that plain-file and mixed-text-file would write are kept by store
;; file name (store-file-content); a computed-file keeps its builder gexp,
;; and a gexp the modules with-imported-modules gave it (gexp-modules).
(define-module (guix gexp)
  #:use-module (srfi srfi-9)
  #:export (gexp ungexp ungexp-splicing ungexp-native ungexp-native-splicing
            gexp? gexp->sexp gexp-modules lower-object register-lowerer!
            with-imported-modules current-imported-modules
            computed-file computed-file? computed-file-name
            computed-file-gexp
            local-file local-file? local-file-file local-file-name
            local-file-recursive? local-file-select?
            plain-file mixed-text-file file-append
            store-file-content fake-store-path))

(define-record-type <gexp>
  (make-gexp sexp modules)
  gexp?
  (sexp gexp->sexp)
  (modules gexp-modules))

(define current-imported-modules (make-parameter '()))

(define-syntax-rule (with-imported-modules modules body ...)
  (parameterize ((current-imported-modules modules))
    body ...))

(define (fake-store-path name)
  ;; A store file name: "/gnu/store/" HASH "-" NAME, HASH 32 characters.
  (let ((hash (number->string (string-hash name (expt 2 60)) 32)))
    (string-append "/gnu/store/"
                   (string-pad hash 32 #\0)
                   "-" name)))

(define-record-type <local-file>
  (make-local-file file name recursive? select?)
  local-file?
  (file local-file-file)
  (name local-file-name)
  (recursive? local-file-recursive?)
  (select? local-file-select?))

(define* (local-file file #:optional (name (basename file))
                     #:key recursive? (select? (const #t)))
  (make-local-file file name recursive? select?))

(define-record-type <text-file>
  (make-text-file name content)
  text-file?
  (name text-file-name)
  (content text-file-content))

(define %files (make-hash-table))          ;store file name -> content

(define (text-file-path f)
  (let ((path (fake-store-path
               (string-append (number->string
                               (string-hash (text-file-content f)) 16)
                              "-" (text-file-name f)))))
    (hash-set! %files path (text-file-content f))
    path))

(define (store-file-content path)
  (hash-ref %files path))

(define (plain-file name content)
  (unless (string? content)
    (error "plain-file: content is not a string" name))
  (make-text-file name content))

(define (mixed-text-file name . text)
  (make-text-file name
                  (apply string-append
                         (map (lambda (x)
                                (let ((v (lower-object x)))
                                  (unless (string? v)
                                    (error "mixed-text-file: not text" x))
                                  v))
                              text))))

(define-record-type <computed-file>
  (make-computed-file name gexp)
  computed-file?
  (name computed-file-name)
  (gexp computed-file-gexp))

(define* (computed-file name gexp #:key guile (local-build? #t) (options '()))
  (unless (gexp? gexp)
    (error "computed-file: not a gexp" name))
  (make-computed-file name gexp))

(define-record-type <file-append>
  (make-file-append base suffix)
  file-append?
  (base file-append-base)
  (suffix file-append-suffix))

(define (file-append base . suffix)
  (make-file-append base suffix))

;; Other stand-ins ((guix packages)) say how their objects lower.
(define %lowerers '())
(define (register-lowerer! pred proc)
  (set! %lowerers (cons (cons pred proc) %lowerers)))

(define (lower-object x)
  (cond ((gexp? x) (gexp->sexp x))
        ((local-file? x) (fake-store-path (local-file-name x)))
        ((text-file? x) (text-file-path x))
        ((computed-file? x) (fake-store-path (computed-file-name x)))
        ((file-append? x)
         (apply string-append (lower-object (file-append-base x))
                (file-append-suffix x)))
        ((pair? x) (map lower-object x))
        ((let loop ((l %lowerers))
           (cond ((null? l) #f)
                 (((caar l) x) ((cdar l) x))
                 (else (loop (cdr l))))))
        (else x)))

;; Outside a gexp these are errors, as in Guix.
(define-syntax ungexp
  (lambda (s) (syntax-violation 'ungexp "used outside gexp" s)))
(define-syntax ungexp-splicing
  (lambda (s) (syntax-violation 'ungexp-splicing "used outside gexp" s)))
(define-syntax ungexp-native
  (lambda (s) (syntax-violation 'ungexp-native "used outside gexp" s)))
(define-syntax ungexp-native-splicing
  (lambda (s)
    (syntax-violation 'ungexp-native-splicing "used outside gexp" s)))

(define-syntax gexp
  (lambda (s)
    (define (head-is? x names)
      (syntax-case x ()
        ((h e) (memq (syntax->datum #'h) names))
        (_ #f)))
    (define (walk x)
      ;; X: syntax of a template; returns syntax of an expression that
      ;; builds the S-expression.
      (syntax-case x ()
        ((h e)
         (and (head-is? x '(ungexp ungexp-native))
              (identifier? #'e)
              (eq? (syntax->datum #'e) 'output))
         #''(getenv "out"))
        ((h e)
         (head-is? x '(ungexp ungexp-native))
         #'(lower-object e))
        ((a . b)
         (head-is? #'a '(ungexp-splicing ungexp-native-splicing))
         (with-syntax ((rest (walk #'b)))
           (syntax-case #'a ()
             ((h e) #'(append (lower-object e) rest)))))
        ((a . b)
         (with-syntax ((car* (walk #'a)) (cdr* (walk #'b)))
           #'(cons car* cdr*)))
        (atom #'(quote atom))))
    (syntax-case s ()
      ((_ template)
       (with-syntax ((built (walk #'template)))
         #'(make-gexp built (current-imported-modules)))))))

;; The reader syntax, as (guix gexp) registers it.
(define (read-ungexp chr port)
  (let ((splice? (eqv? (peek-char port) #\@)))
    (when splice? (read-char port))
    (list (if (char=? chr #\$)
              (if splice? 'ungexp-splicing 'ungexp)
              (if splice? 'ungexp-native-splicing 'ungexp-native))
          (read port))))
(read-hash-extend #\~ (lambda (chr port) (list 'gexp (read port))))
(read-hash-extend #\$ read-ungexp)
(read-hash-extend #\+ read-ungexp)
