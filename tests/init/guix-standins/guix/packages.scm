;; SPDX-License-Identifier: MIT
;; Test stand-in for Guix's (guix packages), for tests/init/guix.sh: the
;; <package> record with Guix's field names (a misspelt field is an error)
;; and defaults, lowered in gexps to a /gnu/store file name.
(define-module (guix packages)
  #:use-module (guix records)
  #:use-module (guix gexp)
  #:export (package package? package-name package-version package-source
            package-build-system package-arguments package-inputs
            package-native-inputs package-propagated-inputs package-outputs
            package-home-page package-synopsis package-description
            package-license package-properties package-supported-systems
            package-store-path))

(define-record-type* <package>
  package make-package
  package?
  (name package-name)
  (version package-version)
  (source package-source)
  (build-system package-build-system)
  (arguments package-arguments (default '()))
  (inputs package-inputs (default '()))
  (propagated-inputs package-propagated-inputs (default '()))
  (native-inputs package-native-inputs (default '()))
  (outputs package-outputs (default '("out")))
  (native-search-paths package-native-search-paths (default '()))
  (search-paths package-search-paths (default '()))
  (replacement package-replacement (default #f))
  (synopsis package-synopsis)
  (description package-description)
  (license package-license)
  (home-page package-home-page)
  (supported-systems package-supported-systems (default '()))
  (properties package-properties (default '()))
  (location package-location (default #f)))

(define (package-store-path p)
  (fake-store-path (string-append (package-name p) "-" (package-version p))))

(register-lowerer! package? package-store-path)
