;; SPDX-License-Identifier: MIT
;; GNU Shepherd service for the system broker, for a Guix System
;; configuration: add VIRT-BROKER-SERVICE-TYPE to `services' in your
;; operating-system declaration, e.g.
;;   (service virt-broker-service-type)
;; The broker binds /run/libvirt/*-sock and starts libvirt's modular daemons
;; on the first connection; virtqemud starts at boot for autostart guests.

(use-modules (gnu services)
             (gnu services shepherd)
             (guix gexp))

(define (virt-broker-shepherd-service config)
  (list (shepherd-service
         (provision '(virt-broker))
         (requirement '(user-processes networking))
         (documentation "Socket activation for libvirt's modular daemons.")
         (start #~(make-forkexec-constructor
                   (list "/run/current-system/profile/sbin/virt-broker"
                         "--system" "-s")))
         (stop #~(make-kill-destructor))
         (actions
          (list (shepherd-action
                 (name 'reload)
                 (documentation "Reload the broker's configuration.")
                 (procedure #~(lambda (running)
                                (kill (process-id running) SIGHUP)
                                #t))))))))

(define virt-broker-service-type
  (service-type
   (name 'virt-broker)
   (extensions
    (list (service-extension shepherd-root-service-type
                             virt-broker-shepherd-service)))
   (default-value #f)
   (description "Run virt-broker for qemu:///system.")))
