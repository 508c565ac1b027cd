;; SPDX-License-Identifier: MIT
;; Guix System services for virt-broker, run by the GNU Shepherd (PID 1).
;;
;; - virt-broker-service-type: the system broker (qemu:///system), in place
;;   of Guix's libvirt-service-type and virtlog-service-type (remove both:
;;   their libvirtd and virtlogd would hold sockets in /var/run/libvirt,
;;   where the broker publishes its own, and guests' consoles would log
;;   through that other virtlogd).
;; - virt-broker-user-service-type: one user's session broker
;;   (qemu:///session), started at boot as that user, with the user's
;;   groups: guests autostart without a login and outlive every logout,
;;   and `virsh -c qemu+ssh://USER@HOST/session` reaches them.
;;
;; In /etc/config.scm (README.md, "Init systems", has the whole example):
;;   (load "/path/to/virt-broker/guix.scm")      ;defines `virt-broker'
;;   (load "/path/to/virt-broker/conf/init/shepherd/virt-broker-system.scm")
;;   ... (services (cons* (service virt-broker-service-type)
;;                        (service virt-broker-user-service-type
;;                                 (virt-broker-user-configuration
;;                                  (user "libvirt")))
;;                        %base-services))
;;
;; What they do, against Guix's own libvirt-service-type
;; (gnu/services/virtualization.scm: libvirt-configuration,
;; libvirt-shepherd-service, /etc/qemu/firmware, libvirt-service-type):
;; - the system service puts what that one puts in the system profile:
;;   libvirt, qemu and dmidecode (its `libvirt', `qemu' and `dmidecode'
;;   fields), where the daemons' PATH finds qemu-system-* and dmidecode;
;;   and it writes /etc/qemu/firmware, the union of the `firmwares'
;;   packages' share/qemu/firmware (OVMF's by default), where libvirt looks
;;   for firmware descriptions;
;; - the daemons are found in the libvirt package (search_path), and get
;;   the PATH that libvirtd gets there, so they find qemu and ip; those
;;   that load kernel modules get its LINUX_MODULE_DIRECTORY too (an `env'
;;   line each in the generated configuration: the broker hands its
;;   daemons a small environment, not its own), so that modprobe finds the
;;   booted kernel's modules;
;; - the configuration is an /etc file, /etc/virt-broker/virt-broker.conf
;;   (one per user: /etc/virt-broker/session-USER.conf), so that after
;;   `guix system reconfigure`, `herd reload virt-broker` applies it;
;; - Guix builds libvirt with --localstatedir=/var and makes /var/run a
;;   directory of its own at boot: system clients connect under
;;   /var/run/libvirt, so the system broker publishes a link to each of its
;;   sockets (in /run/libvirt) there;
;; - the system broker requires dbus-system (libvirt uses D-Bus and
;;   polkit) and, like libvirt-service-type, extends polkit, which brings
;;   D-Bus into any configuration that lacks it: nothing it requires can
;;   be missing and make `guix system reconfigure` abort;
;; - stop: SIGTERM, then SIGKILL after 40 s only (Shepherd's default is
;;   5 s), since the broker stops its daemons first, each within its
;;   unit's stop_timeout (30 s); it leaves virtlogd and virtlockd running
;;   for the guests. Needs Shepherd 0.9.3 or later (#:grace-period). At
;;   the host's halt or reboot (Shepherd 0.10 or later), SIGPWR and 330 s:
;;   the session guests are saved first (virt-broker(8), SIGPWR).
;; - reload: SIGHUP, to the pid that Shepherd 0.9/0.10 keeps as the
;;   service's running value, or that Shepherd 1.0's process record holds
;;   (process-id, which 0.10 lacks, looked up rather than called), or,
;;   failing both, that the broker's lock file (R/virt-broker.pid) holds.

(use-modules (gnu services)
             (gnu services dbus)
             (gnu services shepherd)
             (gnu packages admin)
             (gnu packages firmware)
             (gnu packages virtualization)
             (guix gexp)
             (guix records)
             (srfi srfi-1))

;; Seconds between SIGTERM and SIGKILL: more than a unit's stop_timeout.
(define %virt-broker-grace-period 40)
;; At the host's shutdown (SIGPWR): the users' guests saved within
;; shutdown_timeout (300 s), then the daemons stopped.
(define %virt-broker-shutdown-grace-period 330)

;; Guix's libvirtd service environment (gnu/services/virtualization.scm,
;; libvirt-shepherd-service).
(define %virt-broker-system-path
  "PATH=/run/current-system/profile/bin:/run/current-system/profile/sbin")
(define %virt-broker-module-directory
  "LINUX_MODULE_DIRECTORY=/run/booted-system/kernel/lib/modules")

;; Guix's one libvirtd has LINUX_MODULE_DIRECTORY for all its drivers, so
;; that the modprobe libvirt runs (virKModLoad: vfio-pci for PCI
;; passthrough in virpci.c, nbd for LXC in virfile.c) and the tools it
;; runs find the booted kernel's modules. Here each daemon that may need
;; it gets it: the QEMU and LXC drivers', the node devices' (host
;; devices), the network's and the network filter's (iptables, ebtables).
;; A daemon that is not installed is skipped by the broker.
(define %virt-broker-module-daemons
  '("virtqemud" "virtlxcd" "virtnodedevd" "virtnetworkd" "virtnwfilterd"))

;; An action that sends SIGNAL to the broker. LOCK-FILE: a gexp or string
;; naming the broker's lock file, R/virt-broker.pid, which holds its pid.
(define (virt-broker-signal-action name documentation signal lock-file)
  (shepherd-action
   (name name)
   (documentation documentation)
   (procedure
    #~(lambda (running . args)
        (define (running-pid value)
          ;; Shepherd up to 0.10: the pid. 1.0: a process record.
          (cond ((integer? value) value)
                ((module-variable (resolve-module '(shepherd service))
                                  'process-id)
                 => (lambda (process-id)
                      (false-if-exception ((variable-ref process-id) value))))
                (else #f)))
        (define (lock-file-pid file)
          (false-if-exception
           (let ((pid (call-with-input-file file read)))
             (and (integer? pid) (> pid 1) pid))))
        (let ((pid (or (running-pid running) (lock-file-pid #$lock-file))))
          (cond (pid
                 (kill pid #$signal)
                 #t)
                (else
                 (format #t "virt-broker: no pid to signal~%")
                 #f)))))))

;; reload: SIGHUP, the configuration read again. reexec: SIGUSR2, the
;; broker execs its binary again in place (same pid, sockets and daemons
;; kept): after `guix system reconfigure` brings a new virt-broker, instead
;; of a restart, which would close the sockets.
(define (virt-broker-reload-action lock-file)
  (virt-broker-signal-action 'reload
                             "Reload the broker's configuration (SIGHUP)."
                             SIGHUP lock-file))

(define (virt-broker-reexec-action lock-file)
  (virt-broker-signal-action 'reexec
                             "Re-execute the broker's binary in place \
(SIGUSR2): sockets and daemons are kept."
                             SIGUSR2 lock-file))

;; Stop: SIGTERM to the broker's process group (the broker alone: its
;; daemons have sessions of their own), SIGKILL after the grace period.
;; At the host's halt or reboot, SIGPWR instead, with the time the session
;; guests need to be saved (on_shutdown, shutdown_timeout): Shepherd stops
;; every service from the root service's stop, and root's status is
;; 'stopping meanwhile (Shepherd 0.10: stop-service runs a service's stop
;; in the caller's fiber, while root's controller, which answers
;; service-status, has moved to 'stopping). Where service-status or
;; lookup-service is missing (0.9), the plain stop.
(define %virt-broker-stop
  #~(let ((stop (make-kill-destructor
                 #:grace-period #$%virt-broker-grace-period))
          (stop-for-host (make-kill-destructor
                          SIGPWR
                          #:grace-period
                          #$%virt-broker-shutdown-grace-period)))
      (lambda (running . args)
        (if (false-if-exception
             (eq? 'stopping (service-status (lookup-service 'root))))
            (apply stop-for-host running args)
            (apply stop running args)))))


;;;
;;; The system broker.
;;;

(define-record-type* <virt-broker-configuration>
  virt-broker-configuration make-virt-broker-configuration
  virt-broker-configuration?
  (package       virt-broker-configuration-package ;file-like
                 (default virt-broker))
  (libvirt       virt-broker-configuration-libvirt ;file-like
                 (default libvirt))
  ;; As libvirt-configuration's fields of the same names: the emulator and
  ;; dmidecode (the host's UUID), put in the system profile; and the
  ;; firmware packages, each with share/qemu/firmware/NAME.json, whose
  ;; union is /etc/qemu/firmware.
  (qemu          virt-broker-configuration-qemu ;file-like
                 (default qemu))
  (dmidecode     virt-broker-configuration-dmidecode ;file-like
                 (default dmidecode))
  (firmwares     virt-broker-configuration-firmwares ;list of file-likes
                 (default (list ovmf-x86-64)))
  ;; #f: generated (search_path, publish, the daemons' environment); else
  ;; a file-like, /etc/virt-broker/virt-broker.conf as it is.
  (config-file   virt-broker-configuration-config-file
                 (default #f))
  (extra-options virt-broker-configuration-extra-options ;list of strings
                 (default '())))

(define %virt-broker-system-config "/etc/virt-broker/virt-broker.conf")

(define (virt-broker-config-file config)
  (or (virt-broker-configuration-config-file config)
      (apply mixed-text-file
             "virt-broker.conf"
             "; Generated by virt-broker-service-type; see virt-broker.conf(5).\n"
             "[broker]\n"
             "search_path = " (virt-broker-configuration-libvirt config) "/sbin\n"
             "; Guix's libvirt clients look under /var/run/libvirt.\n"
             "publish = /var/run/libvirt\n"
             "\n"
             "; libvirtd's LINUX_MODULE_DIRECTORY in Guix's libvirt-service-type,\n"
             "; for the daemons that load kernel modules.\n"
             (append-map (lambda (daemon)
                           (list "[" daemon "]\n"
                                 "env = " %virt-broker-module-directory "\n"))
                         %virt-broker-module-daemons))))

;; Libvirt looks for QEMU's firmware descriptions in its own
;; share/qemu/firmware and in /etc/qemu/firmware: the union of the
;; firmware packages' descriptions goes there, as /etc/qemu/firmware does
;; in Guix's gnu/services/virtualization.scm.
(define (virt-broker-qemu-firmware config)
  (let ((firmwares (virt-broker-configuration-firmwares config)))
    (list "qemu/firmware"
          (computed-file
           "etc-qemu-firmware"
           (with-imported-modules '((guix build union))
             #~(begin
                 (use-modules (guix build union) (srfi srfi-26))
                 (union-build #$output
                              (map (cut string-append <> "/share/qemu/firmware")
                                   (list #$@firmwares)))))))))

(define (virt-broker-etc-files config)
  (list (list "virt-broker/virt-broker.conf"
              (virt-broker-config-file config))
        (virt-broker-qemu-firmware config)))

;; libvirt-service-type's profile (dmidecode, libvirt, qemu), and
;; virt-broker for virt-brokerctl.
(define (virt-broker-profile-packages config)
  (list (virt-broker-configuration-package config)
        (virt-broker-configuration-dmidecode config)
        (virt-broker-configuration-libvirt config)
        (virt-broker-configuration-qemu config)))

(define (virt-broker-shepherd-service config)
  (list (shepherd-service
         (provision '(virt-broker))
         (requirement '(user-processes dbus-system))
         (documentation "Socket activation for libvirt's modular daemons \
(qemu:///system).")
         (start #~(make-forkexec-constructor
                   (list #$(file-append
                            (virt-broker-configuration-package config)
                            "/sbin/virt-broker")
                         "--system" "-s"
                         "-f" #$%virt-broker-system-config
                         #$@(virt-broker-configuration-extra-options config))
                   #:environment-variables
                   (list #$%virt-broker-system-path
                         #$%virt-broker-module-directory)))
         (stop %virt-broker-stop)
         (actions
          (list (virt-broker-reload-action
                 "/run/libvirt/virt-broker.pid")
                (virt-broker-reexec-action
                 "/run/libvirt/virt-broker.pid"))))))

(define virt-broker-service-type
  (service-type
   (name 'virt-broker)
   (extensions
    (list (service-extension shepherd-root-service-type
                             virt-broker-shepherd-service)
          (service-extension etc-service-type
                             virt-broker-etc-files)
          ;; As libvirt-service-type: libvirt's polkit actions (and so
          ;; D-Bus, which provides dbus-system).
          (service-extension polkit-service-type
                             (compose list virt-broker-configuration-libvirt))
          ;; virt-brokerctl, virsh, and for the daemons qemu-system-* and
          ;; dmidecode.
          (service-extension profile-service-type
                             virt-broker-profile-packages)))
   (default-value (virt-broker-configuration))
   (description "Run virt-broker, which holds the sockets of libvirt's
modular daemons for qemu:///system and starts each daemon on the first
connection.")))


;;;
;;; A user's session broker, from boot.
;;;

(define-record-type* <virt-broker-user-configuration>
  virt-broker-user-configuration make-virt-broker-user-configuration
  virt-broker-user-configuration?
  (user          virt-broker-user-configuration-user) ;string, required
  ;; #f: the user's primary group.
  (group         virt-broker-user-configuration-group
                 (default #f))
  ;; #f: the groups /etc/group lists the user in, read at each start, as
  ;; a login gets them (kvm for /dev/kvm...); else a list of names.
  (supplementary-groups virt-broker-user-configuration-supplementary-groups
                        (default #f))
  (package       virt-broker-user-configuration-package
                 (default virt-broker))
  (libvirt       virt-broker-user-configuration-libvirt
                 (default libvirt))
  ;; #f: generated (search_path); else a file-like.
  (config-file   virt-broker-user-configuration-config-file
                 (default #f))
  (extra-options virt-broker-user-configuration-extra-options
                 (default '())))

(define (virt-broker-user-config-name config)
  (string-append "virt-broker/session-"
                 (virt-broker-user-configuration-user config) ".conf"))

(define (virt-broker-user-etc-files config)
  (list (list (virt-broker-user-config-name config)
              (or (virt-broker-user-configuration-config-file config)
                  (mixed-text-file
                   (string-append "virt-broker-session-"
                                  (virt-broker-user-configuration-user config)
                                  ".conf")
                   "; Generated by virt-broker-user-service-type; see "
                   "virt-broker.conf(5).\n"
                   "[broker]\n"
                   "search_path = "
                   (virt-broker-user-configuration-libvirt config)
                   "/sbin\n")))))

(define (virt-broker-user-shepherd-service config)
  (define user (virt-broker-user-configuration-user config))
  (define broker
    (file-append (virt-broker-user-configuration-package config)
                 "/sbin/virt-broker"))
  ;; Shepherd sets the supplementary groups only with a group: without one
  ;; the broker would keep root's. PW: the user's passwd entry, at start.
  (define group
    (or (virt-broker-user-configuration-group config)
        #~(passwd:gid pw)))
  (define supplementary-groups
    (let ((groups (virt-broker-user-configuration-supplementary-groups
                   config)))
      (if groups
          #~'#$groups
          #~(user-groups #$user))))
  (list (shepherd-service
         (provision (list (string->symbol
                           (string-append "virt-broker-" user))))
         ;; user-homes: the home directory exists (R is ~/.cache/libvirt).
         (requirement '(user-processes user-homes))
         (documentation (string-append "Socket activation for " user
                                       "'s libvirt daemons \
(qemu:///session)."))
         (start
          #~(lambda args
              (define (user-groups name)
                ;; The groups /etc/group lists NAME in, as at a login.
                (dynamic-wind
                  setgrent
                  (lambda ()
                    (let loop ((groups '()))
                      (let ((entry (getgrent)))
                        (cond ((not entry) (reverse groups))
                              ((member name (group:mem entry))
                               (loop (cons (group:name entry) groups)))
                              (else (loop groups))))))
                  endgrent))
              (let ((pw (false-if-exception (getpwnam #$user))))
                (if (not pw)
                    (begin
                      (format #t "virt-broker: no such user: ~a~%" #$user)
                      #f)
                    (let ((home (passwd:dir pw)))
                      (apply
                       (make-forkexec-constructor
                        (list #$broker "--session" "-s"
                              "-f" #$(string-append
                                      "/etc/"
                                      (virt-broker-user-config-name config))
                              #$@(virt-broker-user-configuration-extra-options
                                  config))
                        #:user #$user
                        #:group #$group
                        #:supplementary-groups #$supplementary-groups
                        #:directory home
                        ;; No XDG_RUNTIME_DIR: R is ~/.cache/libvirt, which
                        ;; no logout deletes; the broker publishes links into
                        ;; /run/user/UID/libvirt while the user is logged in.
                        #:environment-variables
                        (list (string-append "HOME=" home)
                              (string-append "USER=" #$user)
                              (string-append "LOGNAME=" #$user)
                              (string-append
                               "PATH=" home "/.guix-profile/bin:"
                               home "/.guix-profile/sbin:"
                               "/run/current-system/profile/bin:"
                               "/run/current-system/profile/sbin")))
                       args))))))
         (stop %virt-broker-stop)
         (actions
          (list (virt-broker-reload-action
                 #~(let ((pw (false-if-exception (getpwnam #$user))))
                     (and pw
                          (string-append
                           (passwd:dir pw)
                           "/.cache/libvirt/virt-broker.pid")))))))))

(define virt-broker-user-service-type
  (service-type
   (name 'virt-broker-user)
   (extensions
    (list (service-extension shepherd-root-service-type
                             virt-broker-user-shepherd-service)
          (service-extension etc-service-type
                             virt-broker-user-etc-files)))
   (description "Run virt-broker for one user's qemu:///session from boot,
as that user with the user's groups, so that the user's guests autostart
and outlive every logout.")))
