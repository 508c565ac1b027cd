;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (gnu packages firmware), for tests/init/guix.sh:
;; ovmf-x86-64, libvirt-configuration's default firmware.
(define-module (gnu packages firmware)
  #:use-module (guix packages)
  #:export (ovmf-x86-64))

(define ovmf-x86-64
  (package
    (name "ovmf-x86-64")
    (version "202408")
    (source #f)
    (build-system 'gnu-build-system)
    (synopsis "ovmf")
    (description "ovmf")
    (license #f)
    (home-page "https://www.tianocore.org")))
