;; SPDX-License-Identifier: MIT
;; Test stand-in for the GNU Shepherd's (shepherd service), for
;; tests/init/guix.sh, where the services' start, stop and action code is
;; evaluated. make-forkexec-constructor and make-kill-destructor take the
;; keyword arguments Shepherd 0.9.3 and later take (an unknown one is an
;; error), log each call in standin-calls, and return procedures that log
;; their own calls and return a fake pid (4242) or #f. process-id is not
;; defined, as in Shepherd up to 0.10; the test defines it to play 1.0.
;; lookup-service and service-status give the root service's status,
;; 'running unless the test sets it (standin-root-status!).
(define-module (shepherd service)
  #:export (make-forkexec-constructor make-kill-destructor
            lookup-service service-status
            standin-calls standin-reset! standin-log!
            standin-root-status!))

(define %calls '())
(define (standin-calls) (reverse %calls))
(define (standin-reset!) (set! %calls '()))
(define (standin-log! . entry) (set! %calls (cons entry %calls)))

(define* (make-forkexec-constructor command
                                    #:key (user #f) (group #f)
                                    (supplementary-groups '())
                                    (log-file #f) (directory "/")
                                    (file-creation-mask #f)
                                    (create-session? #t)
                                    (environment-variables '())
                                    (resource-limits '())
                                    (pid-file #f) (pid-file-timeout 5))
  (standin-log! 'make-forkexec-constructor command
             #:user user #:group group
             #:supplementary-groups supplementary-groups
             #:directory directory
             #:environment-variables environment-variables)
  (lambda args
    (standin-log! 'fork+exec command)
    4242))

(define* (make-kill-destructor #:optional (signal SIGTERM)
                               #:key (grace-period 5))
  (standin-log! 'make-kill-destructor signal #:grace-period grace-period)
  (lambda (pid . args)
    (standin-log! 'kill-destructor pid signal grace-period)
    #f))

(define %root-status 'running)
(define (standin-root-status! status) (set! %root-status status))
(define (lookup-service name)
  (and (eq? name 'root) 'root-standin))
(define (service-status service)
  (if (eq? service 'root-standin)
      %root-status
      (error "service-status: not a service" service)))
