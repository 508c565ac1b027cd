;; SPDX-License-Identifier: MIT
;; Guix Home service for a user's session broker (qemu:///session): add
;;   (service home-virt-broker-service-type)
;; to `services' in your home-environment. The user's Shepherd starts it at
;; login; enable lingering, or start it without XDG_RUNTIME_DIR (as here),
;; so that guests outlive the session (see virt-broker's README).

(use-modules (gnu home services)
             (gnu home services shepherd)
             (gnu services)
             (guix gexp))

(define (home-virt-broker-shepherd-service config)
  (list (shepherd-service
         (provision '(virt-broker))
         (documentation "Socket activation for the user's libvirt daemons.")
         (start #~(make-forkexec-constructor
                   (list "virt-broker" "--session" "-s")
                   #:environment-variables
                   (filter (lambda (var)
                             (not (string-prefix? "XDG_RUNTIME_DIR=" var)))
                           (environ))))
         (stop #~(make-kill-destructor)))))

(define home-virt-broker-service-type
  (service-type
   (name 'home-virt-broker)
   (extensions
    (list (service-extension home-shepherd-service-type
                             home-virt-broker-shepherd-service)))
   (default-value #f)
   (description "Run virt-broker for qemu:///session.")))
