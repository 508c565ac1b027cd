;; SPDX-License-Identifier: MIT
;; GNU Guix package of virt-broker, built from this checkout:
;;
;;   guix build -f guix.scm          # build it (and run the unit tests)
;;   guix package -f guix.scm        # install it into your profile
;;   guix shell -D -f guix.scm       # a shell with what building it needs
;;
;; From the release tarball (`cmake --build build --target package_source`
;; writes virt-broker-VERSION.tar.gz): unpack it and run the same commands
;; in its top directory. There is no .git there, so the source is every
;; file but build trees (virt-broker-source-file?), which is the tarball.
;;
;; From an operating-system configuration, (load "/path/to/guix.scm")
;; defines `virt-broker', the package that the services of
;; conf/init/shepherd/virt-broker-system.scm run (see README.md, "Init
;; systems"). The version is CMakeLists.txt's project() version; the test
;; init-guix (tests/init/guix.sh) fails when the two differ. The system
;; configuration is read from /etc/virt-broker/virt-broker.conf.

(use-modules (guix packages)
             (guix gexp)
             (guix git-download)
             (guix build-system cmake)
             ((guix licenses) #:prefix license:)
             (gnu packages))

(define %virt-broker-checkout
  (dirname (current-filename)))

;; Without git (an unpacked tarball), every file but the top-level build
;; trees and editor droppings.
(define (virt-broker-source-file? file stat)
  (let ((base (basename file)))
    (not (or (and (string=? (dirname file) %virt-broker-checkout)
                  (or (string-prefix? "build" base)
                      (member base '(".git" ".cache"))))
             (string-suffix? "~" base)))))

(define virt-broker
  (package
    (name "virt-broker")
    (version "0.1.0")
    (source (local-file %virt-broker-checkout "virt-broker-checkout"
                        #:recursive? #t
                        #:select?
                        (if (file-exists? (string-append %virt-broker-checkout
                                                         "/.git"))
                            (git-predicate %virt-broker-checkout)
                            virt-broker-source-file?)))
    (build-system cmake-build-system)
    (arguments
     (list
      ;; /etc/virt-broker/virt-broker.conf, not the store's etc/.
      #:configure-flags #~(list "-DCMAKE_INSTALL_SYSCONFDIR=/etc")
      #:phases
      #~(modify-phases %standard-phases
          (replace 'check
            ;; The unit tests (the pure core): the integration, end to end
            ;; and init-system tests need sockets, users and tools that the
            ;; build environment does not have.
            (lambda* (#:key tests? #:allow-other-keys)
              (when tests?
                (invoke "ctest" "--output-on-failure" "-L" "unit")))))))
    (native-inputs
     (list (specification->package "check")
           (specification->package "pkg-config")))
    (inputs
     (list (specification->package "libev")
           (specification->package "libinih")))
    ;; The placeholder the other recipes (packaging/) carry until there is
    ;; a public home page: a string, as `guix lint' wants (#f is "invalid
    ;; value for home page"); its reachability check fails until then.
    (home-page "https://example.invalid/virt-broker")
    (synopsis
     "Socket activation for libvirt's modular daemons, without systemd")
    (description
     "virt-broker holds the listening sockets of libvirt's modular daemons
(virtqemud, virtnetworkd, virtstoraged, virtlogd...) at libvirt's own paths
and starts each daemon on the first connection, passing it the sockets as
systemd's socket units would.  Every client then reaches the same daemon
whatever runtime directory it computes, so that no second daemon is spawned
next to the first.  It serves a user's session (@code{qemu:///session}) or
the host (@code{qemu:///system}).")
    (license license:expat)))

virt-broker
