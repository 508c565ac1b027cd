;; SPDX-License-Identifier: MIT
;; Evaluates guix.scm and the Shepherd service files against the stand-ins
;; modules of tests/init/guix-standins (see guix.sh for what that can and
;; cannot show), then runs the services' start, stop and reload code with
;; the stand-in (shepherd service) and a stand-in passwd/group database.
;;
;;   guile -L guix-standins --no-auto-compile guix-eval.scm SRC BROKER TMP
;;
;; SRC: the source tree; BROKER: the built virt-broker, which parses the
;; generated configuration files (-n); TMP: an empty scratch directory.
;; Prints "ok: ..." or "FAIL: ..." per check and exits 1 if any failed.

(use-modules (guix gexp)
             (guix packages)
             (guix git-download)
             (gnu services)
             (gnu services shepherd)
             (gnu services dbus)
             (gnu home services)
             (gnu home services shepherd)
             (guix build union)
             (shepherd service)
             (srfi srfi-1)
             (srfi srfi-9)
             (srfi srfi-11)
             (ice-9 match)
             (ice-9 popen)
             (ice-9 rdelim)
             (ice-9 regex)
             (ice-9 textual-ports))

(define-values (src broker tmp)
  (match (command-line)
    ((_ src broker tmp) (values (canonicalize-path src) broker tmp))
    (_ (error "usage: guix-eval.scm SRC BROKER TMP"))))

(define failures 0)
(define checks 0)
(define (check what ok?)
  (set! checks (+ checks 1))
  (if ok?
      (format #t "ok: ~a~%" what)
      (begin
        (set! failures (+ failures 1))
        (format #t "FAIL: ~a~%" what))))

(define (string-contains? s part)
  (and (string? s) (string-contains s part) #t))

;; Evaluate FILE's forms one by one in MODULE, as `load' (and `guix build
;; -f', `guix system') would, and return the last form's value.
(define (load-forms file module)
  (call-with-input-file file
    (lambda (port)
      (let loop ((value *unspecified*))
        (let ((form (read port)))
          (if (eof-object? form)
              value
              (loop (eval form module))))))))

(define (plist-ref plist key)
  (match (memq key plist)
    ((_ value . _) value)
    (_ 'absent)))

(define (write-file file content)
  (call-with-output-file file (lambda (port) (display content port))))

(define (mkdir-p dir)
  (unless (file-exists? dir)
    (mkdir-p (dirname dir))
    (mkdir dir)))

;; Run PROGRAM ARGS...: (exit-status . output).
(define (run . command)
  (let* ((port (apply open-pipe* OPEN_READ command))
         (output (get-string-all port))
         (status (close-pipe port)))
    (cons (status:exit-val status) output)))

(define (unit-block out unit)
  ;; The lines virt-broker -n printed for UNIT in OUT, or #f.
  (let ((start (string-contains out (string-append "unit " unit "\n"))))
    (and start
         (let ((next (string-contains out "\nunit " start)))
           (substring out start (if next (+ next 1) (string-length out)))))))

(define (extension-value type target value)
  ;; What a service of TYPE with VALUE gives the service type TARGET.
  (let ((ext (find (lambda (e) (eq? (service-extension-target e) target))
                   (service-type-extensions type))))
    (and ext ((service-extension-compute ext) value))))


;;;
;;; What Shepherd's code runs against.
;;;

(define kills '())
(define system*-calls '())

;; The user database the start code reads: user libvirt (uid 1001, gid
;; 1001) in groups kvm and video, not in users.
(define home-libvirt (string-append tmp "/home-libvirt"))
(define %passwd
  `(("libvirt" . #("libvirt" "x" 1001 1001 "libvirt" ,home-libvirt
                   "/bin/sh"))))
(define %groups
  (list #("kvm" "x" 978 ("libvirt" "alice"))
        #("users" "x" 100 ("alice"))
        #("video" "x" 986 ("libvirt"))
        #("libvirt" "x" 1001 ())))
(define group-stream '())

(define (make-sandbox)
  ;; A module like the one Shepherd loads service files into: (guile),
  ;; (shepherd service), and stand-ins for what must not really happen.
  (let ((m (make-fresh-user-module)))
    (module-use! m (resolve-interface '(shepherd service)))
    (module-define! m 'kill
                    (lambda (pid signal)
                      (set! kills (cons (list pid signal) kills))
                      #t))
    (module-define! m 'system*
                    (lambda args
                      (set! system*-calls (cons args system*-calls))
                      0))
    (module-define! m 'getpwnam
                    (lambda (name)
                      (or (assoc-ref %passwd name)
                          (error "getpwnam: entry not found" name))))
    (module-define! m 'setgrent (lambda () (set! group-stream %groups)))
    (module-define! m 'getgrent
                    (lambda ()
                      (and (pair? group-stream)
                           (let ((g (car group-stream)))
                             (set! group-stream (cdr group-stream))
                             g))))
    (module-define! m 'endgrent (lambda () (set! group-stream '())))
    m))

(define sandbox (make-sandbox))
(define (run-gexp g)
  (eval (gexp->sexp g) sandbox))

(define (calls-named name)
  (filter (lambda (c) (eq? (car c) name)) (standin-calls)))

;; The arguments of the last make-forkexec-constructor call: (command
;; . keywords), or #f.
(define (last-forkexec)
  (match (reverse (calls-named 'make-forkexec-constructor))
    (((_ command . keys) . _) (cons command keys))
    (_ #f)))

;; The stop procedure and the grace period of its plain stop (SIGTERM).
(define (grace-period-of stop-gexp)
  (standin-reset!)
  (let ((destructor (run-gexp stop-gexp)))
    (values destructor
            (any (match-lambda
                   ((_ signal #:grace-period grace)
                    (and (eqv? signal SIGTERM) grace))
                   (_ #f))
                 (calls-named 'make-kill-destructor)))))

;; What the stop procedure of STOP-GEXP does to pid 4242 while the root
;; service's status is ROOT-STATUS ('stopping: the host's halt or reboot),
;; or with SERVICE-STATUS, if given, in place of Shepherd's (one that
;; throws: Shepherd 0.9, which has none): (signal grace-period), or #f.
(define* (stop-signal stop-gexp root-status #:optional service-status)
  (let ((destructor (run-gexp stop-gexp))
        (real (module-ref (resolve-module '(shepherd service))
                          'service-status)))
    (standin-reset!)
    (standin-root-status! root-status)
    (when service-status
      (module-set! (resolve-module '(shepherd service)) 'service-status
                   service-status))
    (dynamic-wind
      (const #t)
      (lambda () (destructor 4242))
      (lambda ()
        (standin-root-status! 'running)
        (module-set! (resolve-module '(shepherd service)) 'service-status
                     real)))
    (match (calls-named 'kill-destructor)
      (((_ 4242 signal grace)) (list signal grace))
      (_ #f))))

(define (check-stop-signals name stop-gexp)
  (check (format #f "~a: a plain stop (herd stop) sends SIGTERM" name)
         (match (stop-signal stop-gexp 'running)
           ((signal _) (eqv? signal SIGTERM))
           (_ #f)))
  (check (format #f "~a: the host's halt or reboot (root stopping) sends \
SIGPWR and waits >= 330 s for the guests to be saved" name)
         (match (stop-signal stop-gexp 'stopping)
           ((signal grace) (and (eqv? signal SIGPWR) (>= grace 330)))
           (_ #f)))
  (check (format #f "~a: without service-status (Shepherd 0.9) a stop \
sends SIGTERM" name)
         (match (stop-signal stop-gexp 'stopping
                             (lambda _ (throw 'unbound-variable)))
           ((signal _) (eqv? signal SIGTERM))
           (_ #f))))

(define (find-action service name)
  (find (lambda (a) (eq? (shepherd-action-name a) name))
        (shepherd-service-actions service)))

;; Shepherd 1.0's running value: a process record, and process-id.
(define-record-type <process>
  (make-process id)
  process?
  (id process-id*))
(define shepherd-service-module (resolve-module '(shepherd service)))
(define (with-shepherd-1.0 thunk)
  (module-define! shepherd-service-module 'process-id process-id*)
  (dynamic-wind (const #t) thunk
                (lambda ()
                  (module-remove! shepherd-service-module 'process-id))))


;;;
;;; guix.scm
;;;

(define cmake-version
  (let* ((text (call-with-input-file (string-append src "/CMakeLists.txt")
                 get-string-all))
         (m (string-match "project\\(virt-broker VERSION ([0-9.]+)" text)))
    (and m (match:substring m 1))))

(define system-module (make-fresh-user-module))
(define pkg (load-forms (string-append src "/guix.scm") system-module))

(check "guix.scm's last expression is a package" (package? pkg))
(check "guix.scm defines virt-broker, that package"
       (eq? pkg (module-ref system-module 'virt-broker)))
(check "the package is named virt-broker"
       (equal? (package-name pkg) "virt-broker"))
(check (format #f "its version (~a) is CMakeLists.txt's project() version (~a)"
               (package-version pkg) cmake-version)
       (and cmake-version (equal? (package-version pkg) cmake-version)))
(check "it builds with cmake-build-system"
       (eq? (package-build-system pkg) 'cmake-build-system))
(check "inputs: libev, libinih"
       (lset= equal? (map package-name (package-inputs pkg))
              '("libev" "libinih")))
(check "home-page is a URL string (guix lint: #f is an invalid home page)"
       (let ((url (package-home-page pkg)))
         (and (string? url) (string-prefix? "https://" url))))
(check "native inputs: check, pkg-config"
       (lset= equal? (map package-name (package-native-inputs pkg))
              '("check" "pkg-config")))
(let ((flags (plist-ref (package-arguments pkg) #:configure-flags)))
  (check "configure flags: CMAKE_INSTALL_SYSCONFDIR=/etc"
         (and (gexp? flags)
              (member "-DCMAKE_INSTALL_SYSCONFDIR=/etc" (gexp->sexp flags))
              #t)))
(let ((phases (plist-ref (package-arguments pkg) #:phases)))
  (check "the check phase runs the unit tests (ctest -L unit)"
         (and (gexp? phases)
              (string-contains? (object->string (gexp->sexp phases))
                                "\"ctest\" \"--output-on-failure\" \"-L\" \"unit\""))))
(let ((source (package-source pkg)))
  (check "the source is the checkout, recursively, through a select? filter"
         (and (local-file? source)
              (equal? (canonicalize-path (local-file-file source)) src)
              (local-file-recursive? source)
              (procedure? (local-file-select? source))))
  (check "in a git checkout, select? is git-predicate's for the checkout"
         (or (not (file-exists? (string-append src "/.git")))
             (member src (map canonicalize-path
                              (git-predicate-directories))))))
(let ((select? (module-ref system-module 'virt-broker-source-file?)))
  (check "without git: build trees and .git are left out, not build-*.sh"
         (and (not (select? (string-append src "/build") #f))
              (not (select? (string-append src "/build-test") #f))
              (not (select? (string-append src "/.git") #f))
              (select? (string-append src "/tests/e2e/build-libvirt.sh") #f)
              (select? (string-append src "/CMakeLists.txt") #f))))


;;;
;;; virt-broker-system.scm: the system broker.
;;;

(load-forms (string-append src "/conf/init/shepherd/virt-broker-system.scm")
            system-module)
(define (sys name) (module-ref system-module name))

(define system-type (sys 'virt-broker-service-type))
(define system-config (service-value (service system-type)))
(define package-path (package-store-path pkg))

(define (system-shepherd config)
  (match (extension-value system-type shepherd-root-service-type config)
    ((s) s)
    (x (error "expected one shepherd service" x))))
(define system-svc (system-shepherd system-config))

(check "system: provision (virt-broker)"
       (equal? (shepherd-service-provision system-svc) '(virt-broker)))
(check "system: requires user-processes and dbus-system, as libvirtd does"
       (equal? (shepherd-service-requirement system-svc)
               '(user-processes dbus-system)))
(check "system: does not require networking"
       (not (memq 'networking (shepherd-service-requirement system-svc))))
(check "system: extends polkit with libvirt (and so brings dbus-system)"
       (equal? (map package-name
                    (extension-value system-type polkit-service-type
                                     system-config))
               '("libvirt")))
(let ((profile (map package-name
                    (extension-value system-type profile-service-type
                                     system-config))))
  (check "system: puts virt-broker (virt-brokerctl) in the system profile"
         (member "virt-broker" profile))
  (check "system: puts libvirt, qemu and dmidecode in the system profile, \
as libvirt-service-type does"
         (lset<= equal? '("libvirt" "qemu" "dmidecode") profile)))
(check "system: the qemu field chooses the profile's qemu"
       (let ((config (eval '(virt-broker-configuration
                             (qemu (package (inherit qemu)
                                            (name "qemu-minimal"))))
                           system-module)))
         (lset<= equal? '("qemu-minimal" "dmidecode")
                 (map package-name
                      (extension-value system-type profile-service-type
                                       config)))))

(define system-etc
  (extension-value system-type etc-service-type system-config))
(define (etc-file etc name)
  (match (assoc name etc)
    ((_ file) file)
    (_ #f)))
(define system-config-file
  (etc-file system-etc "virt-broker/virt-broker.conf"))

;; /etc/qemu/firmware: its builder run with the stand-in (guix build union).
(define (firmware-union etc)
  ;; The inputs union-build gets, or #f.
  (let ((file (etc-file etc "qemu/firmware")))
    (and (computed-file? file)
         (member '(guix build union) (gexp-modules (computed-file-gexp file)))
         (begin
           (union-build-reset!)
           (setenv "out" "/gnu/store/00000000000000000000000000000000-out")
           (eval (gexp->sexp (computed-file-gexp file))
                 (make-fresh-user-module))
           (unsetenv "out")
           (match (union-build-calls)
             ((("/gnu/store/00000000000000000000000000000000-out" inputs))
              inputs)
             (_ #f))))))
(define (firmware-dir name)
  (string-append (package-store-path
                  (module-ref (resolve-interface '(gnu packages firmware))
                              name))
                 "/share/qemu/firmware"))

(check "system: /etc/qemu/firmware is the union of OVMF's share/qemu/firmware"
       (equal? (firmware-union system-etc)
               (list (firmware-dir 'ovmf-x86-64))))
(check "system: the firmwares field chooses what /etc/qemu/firmware holds"
       (let ((config (eval '(virt-broker-configuration
                             (firmwares
                              (list ovmf-x86-64
                                    (package (inherit ovmf-x86-64)
                                             (name "ovmf-aarch64")))))
                           system-module)))
         (equal? (firmware-union (extension-value system-type etc-service-type
                                                  config))
                 (list (firmware-dir 'ovmf-x86-64)
                       (string-append (fake-store-path "ovmf-aarch64-202408")
                                      "/share/qemu/firmware")))))

(standin-reset!)
(define system-start (run-gexp (shepherd-service-start system-svc)))
(match (last-forkexec)
  ((command . keys)
   (check "system: runs the package's sbin/virt-broker"
          (equal? (car command) (string-append package-path
                                               "/sbin/virt-broker")))
   (check "system: with --system"
          (member "--system" command))
   (check "system: -f is the /etc file that the etc extension writes"
          (match (member "-f" command)
            (("-f" file . _)
             (and system-config-file
                  (equal? file "/etc/virt-broker/virt-broker.conf")))
            (_ #f)))
   (let ((env (plist-ref keys #:environment-variables)))
     (check "system: PATH as Guix's libvirtd gets it"
            (member "PATH=/run/current-system/profile/bin:/run/current-system/profile/sbin"
                    env))
     (check "system: LINUX_MODULE_DIRECTORY as Guix's libvirtd gets it"
            (member "LINUX_MODULE_DIRECTORY=/run/booted-system/kernel/lib/modules"
                    env))))
  (#f (check "system: start calls make-forkexec-constructor" #f)))
(check "system: start's constructor starts a process"
       (and (procedure? system-start) (eqv? (system-start) 4242)))

(let ((svc (system-shepherd
            (eval '(virt-broker-configuration (extra-options '("-v")))
                  system-module))))
  (standin-reset!)
  (run-gexp (shepherd-service-start svc))
  (check "system: extra-options go at the end of the command line"
         (match (last-forkexec)
           ((command . _) (equal? (last command) "-v"))
           (_ #f))))

(let-values (((destructor grace)
              (grace-period-of (shepherd-service-stop system-svc))))
  (check (format #f "system: stop waits ~a s (>= 40) before SIGKILL" grace)
         (and grace (>= grace 40)))
  (check "system: stop's destructor stops the process"
         (and (procedure? destructor)
              (begin (destructor 4242)
                     (pair? (calls-named 'kill-destructor))))))
(check-stop-signals "system" (shepherd-service-stop system-svc))

(let ((reload (find-action system-svc 'reload)))
  (check "system: has a reload action" reload)
  (when reload
    (let ((proc (run-gexp (shepherd-action-procedure reload))))
      (set! kills '())
      (check "system: reload, Shepherd 0.10 (running value: the pid): SIGHUP"
             (and (eq? (proc 4242) #t)
                  (equal? kills `((4242 ,SIGHUP)))))
      (set! kills '())
      (check "system: reload, Shepherd 1.0 (a process record): SIGHUP"
             (with-shepherd-1.0
              (lambda ()
                (and (eq? (proc (make-process 777)) #t)
                     (equal? kills `((777 ,SIGHUP))))))))))

(let ((reexec (find-action system-svc 'reexec)))
  (check "system: has a reexec action" reexec)
  (when reexec
    (let ((proc (run-gexp (shepherd-action-procedure reexec))))
      (set! kills '())
      (check "system: reexec sends SIGUSR2"
             (and (eq? (proc 4242) #t)
                  (equal? kills `((4242 ,SIGUSR2))))))))

;; The generated configuration, read by the real broker (-n: parse,
;; resolve, print), with the libvirt package's sbin/ played by a directory
;; of stand-in daemons.
(define fake-libvirt (string-append tmp "/libvirt"))
(mkdir-p (string-append fake-libvirt "/sbin"))
(for-each (lambda (d)
            (let ((f (string-append fake-libvirt "/sbin/" d)))
              (write-file f "#!/bin/sh\n")
              (chmod f #o755)))
          '("virtqemud" "virtnodedevd" "virtnetworkd" "virtlogd" "libvirtd"))
(define libvirt-path
  (package-store-path (module-ref (resolve-interface
                                   '(gnu packages virtualization))
                                  'libvirt)))

(define (localize content)
  ;; CONTENT with the libvirt store path replaced by FAKE-LIBVIRT.
  (regexp-substitute/global #f (regexp-quote libvirt-path) content
                            'pre fake-libvirt 'post))

(match system-config-file
  ((? identity file)
   (let ((content (store-file-content (lower-object file))))
     (check "system config: search_path is the libvirt package's sbin"
            (string-contains? content
                              (string-append "search_path = " libvirt-path
                                             "/sbin\n")))
     (check "system config: published under /var/run/libvirt"
            (string-contains? content "publish = /var/run/libvirt\n"))
     (let ((conf (string-append tmp "/system.conf")))
       (write-file conf (localize content))
       (match (run broker "-n" "--system" "-f" conf)
         ((status . out)
          (check "system config: virt-broker -n --system accepts it"
                 (eqv? status 0))
          (check "system config: the broker serves libvirt's virtqemud"
                 (string-contains? out (string-append "exec " fake-libvirt
                                                      "/sbin/virtqemud")))
          (for-each
           (lambda (unit)
             (check (format #f "system config: ~a gets LINUX_MODULE_DIRECTORY"
                            unit)
                    (string-contains?
                     (unit-block out unit)
                     "\tenv LINUX_MODULE_DIRECTORY=/run/booted-system/kernel/lib/modules\n")))
           '("virtqemud" "virtnodedevd" "virtnetworkd"))
          (check "system config: libvirtd is not served next to virtqemud"
                 (not (string-contains? out "unit libvirtd")))
          (check "system config: the broker publishes into /var/run/libvirt"
                 (string-contains? out "publish /var/run/libvirt")))))))
  (_ (check "system: an /etc/virt-broker/virt-broker.conf" #f)))


;;;
;;; virt-broker-system.scm: a user's session broker from boot.
;;;

(define user-type (sys 'virt-broker-user-service-type))
(define (user-config . fields)
  (eval `(virt-broker-user-configuration (user "libvirt") ,@fields)
        system-module))
(define (user-shepherd config)
  (match (extension-value user-type shepherd-root-service-type config)
    ((s) s)
    (x (error "expected one shepherd service" x))))
(define user-svc (user-shepherd (user-config)))
(define user-etc (extension-value user-type etc-service-type (user-config)))

(check "user: provision (virt-broker-libvirt)"
       (equal? (shepherd-service-provision user-svc) '(virt-broker-libvirt)))
(check "user: requires user-processes, not networking"
       (and (memq 'user-processes (shepherd-service-requirement user-svc))
            (not (memq 'networking (shepherd-service-requirement user-svc)))))

(standin-reset!)
(define user-start (run-gexp (shepherd-service-start user-svc)))
(check "user: start starts a process"
       (and (procedure? user-start) (eqv? (user-start) 4242)))
(match (last-forkexec)
  ((command . keys)
   (check "user: runs the package's sbin/virt-broker --session"
          (and (equal? (car command)
                       (string-append package-path "/sbin/virt-broker"))
               (member "--session" command)))
   (check "user: -f is the /etc file that the etc extension writes"
          (match (member "-f" command)
            (("-f" file . _)
             (match user-etc
               (((name _)) (equal? file (string-append "/etc/" name)))
               (_ #f)))
            (_ #f)))
   (check "user: #:user \"libvirt\""
          (equal? (plist-ref keys #:user) "libvirt"))
   (check "user: #:group, the user's primary group (1001)"
          (eqv? (plist-ref keys #:group) 1001))
   (check "user: #:supplementary-groups, the user's groups (kvm video)"
          (equal? (plist-ref keys #:supplementary-groups) '("kvm" "video")))
   (check "user: runs in the home directory"
          (equal? (plist-ref keys #:directory) home-libvirt))
   (let ((env (plist-ref keys #:environment-variables)))
     (check "user: HOME is set"
            (member (string-append "HOME=" home-libvirt) env))
     (check "user: USER and LOGNAME are set"
            (and (member "USER=libvirt" env) (member "LOGNAME=libvirt" env)))
     (check "user: XDG_RUNTIME_DIR is not in the environment"
            (and (list? env)
                 (not (any (lambda (v) (string-prefix? "XDG_RUNTIME_DIR=" v))
                           env))))))
  (#f (check "user: start calls make-forkexec-constructor" #f)))

(let ((svc (user-shepherd (user-config '(group "libvirt")
                                       '(supplementary-groups '("kvm"))))))
  (standin-reset!)
  ((run-gexp (shepherd-service-start svc)))
  (check "user: a configured group and supplementary groups are used"
         (match (last-forkexec)
           ((_ . keys)
            (and (equal? (plist-ref keys #:group) "libvirt")
                 (equal? (plist-ref keys #:supplementary-groups) '("kvm"))))
           (_ #f))))

(let ((svc (user-shepherd (eval '(virt-broker-user-configuration
                                  (user "nosuchuser"))
                                system-module))))
  (standin-reset!)
  (check "user: an unknown user fails the start, starting nothing"
         (and (not ((run-gexp (shepherd-service-start svc))))
              (null? (calls-named 'make-forkexec-constructor)))))

(let-values (((destructor grace)
              (grace-period-of (shepherd-service-stop user-svc))))
  (check (format #f "user: stop waits ~a s (>= 40) before SIGKILL" grace)
         (and grace (>= grace 40))))
(check-stop-signals "user" (shepherd-service-stop user-svc))

(let ((reload (find-action user-svc 'reload)))
  (check "user: has a reload action" reload)
  (when reload
    (let ((proc (run-gexp (shepherd-action-procedure reload)))
          (lock (string-append home-libvirt "/.cache/libvirt/virt-broker.pid")))
      (set! kills '())
      (check "user: reload, Shepherd 0.10: SIGHUP to the pid"
             (and (proc 4243) (equal? kills `((4243 ,SIGHUP)))))
      (mkdir-p (dirname lock))
      (write-file lock "31337\n")
      (set! kills '())
      (check "user: reload, no pid from Shepherd: SIGHUP to the lock's pid"
             (and (proc #t) (equal? kills `((31337 ,SIGHUP)))))
      (delete-file lock)
      (set! kills '())
      (check "user: reload with no pid at all fails, signalling nothing"
             (and (not (proc #t)) (null? kills))))))

(match user-etc
  (((name file))
   (let ((content (store-file-content (lower-object file))))
     (check "user config: search_path is the libvirt package's sbin"
            (string-contains? content
                              (string-append "search_path = " libvirt-path
                                             "/sbin\n")))
     (let ((conf (string-append tmp "/session.conf")))
       (write-file conf (localize content))
       (match (run "env" "-u" "XDG_RUNTIME_DIR" "-u" "XDG_CACHE_HOME"
                   (string-append "HOME=" home-libvirt)
                   broker "-n" "--session" "-f" conf)
         ((status . out)
          (check "user config: virt-broker -n --session accepts it"
                 (eqv? status 0))
          (check "user config: R is ~/.cache/libvirt, virtqemud is served"
                 (and (string-contains?
                       out (string-append "runtime_dir " home-libvirt
                                          "/.cache/libvirt"))
                      (string-contains? out (string-append
                                             "exec " fake-libvirt
                                             "/sbin/virtqemud")))))))))
  (_ (check "user: one /etc file" #f)))


;;;
;;; virt-broker-home.scm
;;;

(define home-module (make-fresh-user-module))
(load-forms (string-append src "/guix.scm") home-module)
(load-forms (string-append src "/conf/init/shepherd/virt-broker-home.scm")
            home-module)
(define home-type (module-ref home-module 'home-virt-broker-service-type))
(define home-config (service-value (service home-type)))
(define home-svc
  (match (extension-value home-type home-shepherd-service-type home-config)
    ((s) s)
    (x (error "expected one shepherd service" x))))

(check "home: provision (virt-broker)"
       (equal? (shepherd-service-provision home-svc) '(virt-broker)))

(define home-alice (string-append tmp "/home-alice"))
(define xdg-runtime (string-append tmp "/xdg-runtime"))
(mkdir-p (string-append home-alice "/.cache/libvirt"))
(mkdir-p (string-append xdg-runtime "/libvirt"))
(setenv "HOME" home-alice)
(unsetenv "XDG_CACHE_HOME")
(setenv "XDG_RUNTIME_DIR" xdg-runtime)

(define home-start (run-gexp (shepherd-service-start home-svc)))
(define (listen-on file)
  (let ((s (socket PF_UNIX SOCK_STREAM 0)))
    (bind s AF_UNIX file)
    (listen s 5)
    s))

(standin-reset!)
(check "home: with no broker running, start starts one"
       (eqv? (home-start) 4242))
(match (last-forkexec)
  ((command . keys)
   (check "home: runs the package's sbin/virt-broker --session"
          (and (equal? (car command)
                       (string-append package-path "/sbin/virt-broker"))
               (member "--session" command)))
   (let ((env (plist-ref keys #:environment-variables)))
     (check "home: XDG_RUNTIME_DIR is left out of Shepherd's environment"
            (and (list? env)
                 (getenv "XDG_RUNTIME_DIR")
                 (not (any (lambda (v) (string-prefix? "XDG_RUNTIME_DIR=" v))
                           env))
                 (member (string-append "HOME=" home-alice) env)))))
  (#f (check "home: start calls make-forkexec-constructor" #f)))

(let* ((ctl (string-append home-alice "/.cache/libvirt/virt-broker-ctl-sock"))
       (s (listen-on ctl)))
  (standin-reset!)
  (check "home: a broker answering on ~/.cache/libvirt: start starts none"
         (and (eq? (home-start) #t)
              (null? (calls-named 'make-forkexec-constructor))))
  (close-port s)                        ;the file stays: a dead socket
  (standin-reset!)
  (check "home: a dead control socket left behind: start starts one"
         (eqv? (home-start) 4242))
  (delete-file ctl))
(let* ((ctl (string-append xdg-runtime "/libvirt/virt-broker-ctl-sock"))
       (s (listen-on ctl)))
  (standin-reset!)
  (check "home: a broker answering under XDG_RUNTIME_DIR: start starts none"
         (and (eq? (home-start) #t)
              (null? (calls-named 'make-forkexec-constructor))))
  (close-port s)
  (delete-file ctl))

(let-values (((destructor grace)
              (grace-period-of (shepherd-service-stop home-svc))))
  (check (format #f "home: stop waits ~a s (>= 40) before SIGKILL" grace)
         (and grace (>= grace 40)))
  (standin-reset!)
  (check "home: stop leaves a broker it did not start alone"
         (and (not (destructor #t))
              (null? (calls-named 'kill-destructor))))
  (standin-reset!)
  (check "home: stop stops the broker it started"
         (and (not (destructor 4242))
              (equal? (map cadr (calls-named 'kill-destructor)) '(4242)))))

(let ((reload (find-action home-svc 'reload)))
  (check "home: has a reload action" reload)
  (when reload
    (set! system*-calls '())
    (check "home: reload is virt-brokerctl --session reload"
           (and ((run-gexp (shepherd-action-procedure reload)) #t)
                (equal? system*-calls
                        `((,(string-append package-path "/bin/virt-brokerctl")
                           "--session" "reload")))))))

(match (extension-value home-type home-xdg-configuration-files-service-type
                        home-config)
  ((("virt-broker/virt-broker.conf" file))
   (check "home config: ~/.config/virt-broker/virt-broker.conf, search_path"
          (string-contains? (store-file-content (lower-object file))
                            (string-append "search_path = " libvirt-path
                                           "/sbin\n"))))
  (_ (check "home: one file in ~/.config/virt-broker" #f)))

(format #t "~a passed, ~a failed~%" (- checks failures) failures)
(exit (if (zero? failures) 0 1))
