;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (gnu packages admin), for tests/init/guix.sh: the
;; package libvirt-service-type puts in the system profile from there.
(define-module (gnu packages admin)
  #:use-module (guix packages)
  #:export (dmidecode))

(define dmidecode
  (package
    (name "dmidecode")
    (version "3.6")
    (source #f)
    (build-system 'gnu-build-system)
    (synopsis "dmidecode")
    (description "dmidecode")
    (license #f)
    (home-page "https://www.nongnu.org/dmidecode/")))
