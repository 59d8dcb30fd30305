/*
 * cyberpact/pki.h - the node's local PKI (GnuTLS): on first start, when no
 * certificates are configured, a local CA, a server certificate and one client
 * certificate are generated so that the node speaks HTTPS (and mutual TLS) at once.
 *
 * Files written under dir (created 0700): ca.crt, ca.key, server.crt, server.key,
 * client.crt, client.key (PEM; keys 0600). ECDSA P-256 keys, SHA-256 signatures,
 * validity 825 days for leaf certificates and 10 years for the CA. The server
 * certificate has subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1 plus the names
 * given; the client certificate has extendedKeyUsage clientAuth and CN "cyberpact
 * client".
 */
#ifndef CYBERPACT_PKI_H
#define CYBERPACT_PKI_H

#include "cyberpact/base.h"

/*
 * Make sure dir holds the six files; generate whatever is missing (an existing CA is
 * reused to sign new leaf certificates). *created is true when anything was written.
 * extra_names: NULL-terminated extra DNS names or IP addresses for the server
 * certificate (may be NULL). Errors (CP_EIO naming the path, CP_EBACKEND with the
 * GnuTLS message) go to diag.
 *
 * Nothing is ever overwritten, and nothing is written unless everything can be: new
 * files are staged as fsync'd temporary files in dir and renamed at the end. Only the
 * last component of dir is created (0700). Leaf pairs are generated only as whole
 * pairs; an existing server certificate is kept even when extra_names changed (delete
 * server.crt and server.key to regenerate it). ca.crt with all four leaf files but no
 * ca.key (a CA key kept offline) is complete: nothing to do.
 *
 * Findings (severity error) and results:
 *  - "pki-name", CP_EINVAL: an extra name is neither an IP address nor a DNS name;
 *  - "pki-conflict", CP_ECONFLICT: half a key pair where something must be generated,
 *    leaf files without a CA, a ca.key that does not belong to ca.crt, or a ca.crt
 *    that is not a CA certificate;
 *  - "pki-io", CP_EIO: a directory or file that cannot be created, read or written;
 *  - "pki-gnutls", CP_EBACKEND: GnuTLS failed (also: an unparsable or encrypted CA
 *    file);
 *  - CP_ENOMEM without a finding; CP_EINVAL without a finding for a NULL/empty dir or
 *    NULL created.
 * *created is written only on success. Not safe against a concurrent call (in this or
 * another process) on the same dir.
 */
CP_MUST_CHECK enum cp_err cp_pki_ensure(const char *dir, const char *const *extra_names,
					bool *created, struct cp_diag *diag);

/* Length of "sha256:" + 64 hex digits + NUL. */
#define CP_PKI_FINGERPRINT_MAX 72

/*
 * The SHA-256 fingerprint of the SubjectPublicKeyInfo of a DER certificate, as
 * "sha256:<64 lowercase hex>" (what accounts name in client_cert_fingerprint). Equals
 * `certtool --pubkey-info --load-certificate FILE --outder | sha256sum`.
 * Returns CP_EPARSE for bytes that are not a certificate, CP_EINVAL for NULL
 * arguments, CP_ETOOBIG above 1 MiB. out is written only on success. Thread-safe.
 */
CP_MUST_CHECK enum cp_err cp_pki_spki_fingerprint_der(const void *der, size_t len,
						      char out[CP_PKI_FINGERPRINT_MAX]);
/*
 * Same for a certificate file: PEM (the first certificate in it) or DER.
 * CP_ENOTFOUND if the file does not exist, CP_EIO if it cannot be read or is not a
 * regular file, CP_EPARSE if it holds no certificate.
 */
CP_MUST_CHECK enum cp_err cp_pki_spki_fingerprint_file(const char *path,
						       char out[CP_PKI_FINGERPRINT_MAX]);

#endif /* CYBERPACT_PKI_H */
