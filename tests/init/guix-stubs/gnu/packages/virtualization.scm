;; SPDX-License-Identifier: MIT
;; Test stub of Guix's (gnu packages virtualization), for tests/init/guix.sh.
(define-module (gnu packages virtualization)
  #:use-module (guix packages)
  #:export (libvirt))

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
