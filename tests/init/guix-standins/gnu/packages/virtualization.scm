;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (gnu packages virtualization), for tests/init/guix.sh.
(define-module (gnu packages virtualization)
  #:use-module (guix packages)
  #:export (libvirt qemu))

(define libvirt
  (package
    (name "libvirt")
    (version "10.0.0")
    (source #f)
    (build-system 'meson-build-system)
    (synopsis "libvirt")
    (description "libvirt")
    (license #f)
    (home-page "https://libvirt.org")))

(define qemu
  (package
    (name "qemu")
    (version "9.1.0")
    (source #f)
    (build-system 'gnu-build-system)
    (synopsis "qemu")
    (description "qemu")
    (license #f)
    (home-page "https://www.qemu.org")))
