/* Whether a request carries its SDK-HMAC-SHA256 signature, in one call (see identity/aksk.py).
 *
 * Why C: every signed poll pays for this on the event loop's thread. In Python, joining the
 * canonical request, hashing it, and the HMAC over the string to sign took about 9 µs a request
 * in a loop and more in the server: the largest part of what an AK/SK poll costs beyond a token
 * poll. With only those steps here, the date check, the plain path and query and the calls
 * between them still cost a signed poll 2-3 µs of Python more than a token poll, on the thread
 * every request waits for (bench/NOTES.md); so a poll's whole check is one call. No library
 * verifies this scheme (the SDK only signs its own requests, in Python); these are its steps,
 * with OpenSSL's SHA-256. A path or query that needs percent-encoding is canonicalised in
 * aksk.py, where Python's quote() is the SDK's own.
 *
 * Unlike the signer, this never takes X-Sdk-Content-Sha256 on trust: the SDK puts a declared
 * value in the canonical request instead of hashing the body, so a verifier that did the same
 * would accept any body under a signature made for another. A body is always hashed here, and a
 * declared value must be that hash.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <openssl/evp.h>
#include <string.h>

typedef struct {
    char *data;
    size_t size, capacity;
    char inline_space[2048];
} Buffer;

static int buffer_add(Buffer *buffer, const char *bytes, size_t size) {
    if (buffer->size + size > buffer->capacity) {
        size_t capacity = (buffer->size + size) * 2;
        char *grown = buffer->data == buffer->inline_space ? malloc(capacity) : realloc(buffer->data, capacity);
        if (grown == NULL) return -1;
        if (buffer->data == buffer->inline_space) memcpy(grown, buffer->inline_space, buffer->size);
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->size, bytes, size);
    buffer->size += size;
    return 0;
}

static int is_space(char c) { /* what bytes.strip() strips */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c';
}

static void hex(const unsigned char *digest, unsigned int size, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < size; i++) {
        out[2 * i] = digits[digest[i] >> 4];
        out[2 * i + 1] = digits[digest[i] & 15];
    }
}

/* SHA-256 through one context and one fetched implementation, kept for the process: EVP_Digest
 * allocates a context and looks the algorithm up on every call. Only called with the GIL held,
 * so never from two threads at once. */
static EVP_MD *sha256_md;
static EVP_MD_CTX *sha256_ctx;

static int sha256(const void *first, size_t first_size, const void *second, size_t second_size,
                  unsigned char *out, unsigned int *out_size) {
    return EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) && EVP_DigestUpdate(sha256_ctx, first, first_size) &&
           (second_size == 0 || EVP_DigestUpdate(sha256_ctx, second, second_size)) &&
           EVP_DigestFinal_ex(sha256_ctx, out, out_size);
}

/* HMAC (RFC 2104) over SHA-256 from two digests: OpenSSL 3's one-shot HMAC() looks up its MAC
 * implementation on every call, which measured slower than the whole canonical request. */
static int hmac_sha256(const unsigned char *key, size_t key_size, const unsigned char *message,
                       size_t message_size, unsigned char *out, unsigned int *out_size) {
    enum { BLOCK = 64 };
    unsigned char block[BLOCK] = {0}, inner[BLOCK], outer[BLOCK], inner_digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (key_size > BLOCK) {
        if (!sha256(key, key_size, NULL, 0, block, &size)) return 0;
    } else {
        memcpy(block, key, key_size);
    }
    for (int i = 0; i < BLOCK; i++) {
        inner[i] = block[i] ^ 0x36;
        outer[i] = block[i] ^ 0x5c;
    }
    return sha256(inner, BLOCK, message, message_size, inner_digest, &size) &&
           sha256(outer, BLOCK, inner_digest, size, out, out_size);
}

/* The outcomes of check(), exported under these names (aksk.py gives each its message). */
enum {
    VERIFIED = 0,
    MALFORMED_SIGNATURE = 1,   /* what follows "Signature=" is not 64 hex digits */
    NO_DATE = 2,               /* no X-Sdk-Date, or not among the signed headers */
    MALFORMED_DATE = 3,        /* not YYYYMMDDTHHMMSSZ, or no such day or time */
    DATE_SKEW = 4,             /* more than 15 minutes from now */
    UNSIGNED_CONTENT_HASH = 5, /* X-Sdk-Content-Sha256 sent but not signed */
    MISMATCH = 6,              /* not the signature of this request with this secret */
    NOT_PLAIN = 7,             /* the path or query needs percent-encoding: aksk.py canonicalises */
    UNCHECKED = 8,             /* all but the signature checked: no secret was given */
    BODY_HASH_MISMATCH = 9,    /* a body, and an X-Sdk-Content-Sha256 that is not its SHA-256 */
};

enum { MAX_CLOCK_SKEW_SECONDS = 15 * 60, DATE_SIZE = 16 /* YYYYMMDDTHHMMSSZ */ };

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* What percent-encoding leaves alone (RFC 3986's unreserved characters): a path or query made
 * only of these, "/" in a path and one "=" in a query, is its own canonical form. */
static int is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static int has_name(PyObject *names, const char *name, size_t size) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        PyObject *item = PyTuple_GET_ITEM(names, i);
        if (PyBytes_Check(item) && (size_t)PyBytes_GET_SIZE(item) == size &&
            memcmp(PyBytes_AS_STRING(item), name, size) == 0)
            return 1;
    }
    return 0;
}

/* The names of the headers check() reads itself, made once. */
static PyObject *date_name, *content_hash_name;
/* The hex SHA-256 of an empty body, every GET's payload hash. */
static const char empty_hash[64] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static int digits(const char *text, int count) {
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9') return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

/* YYYYMMDDTHHMMSSZ as seconds since the epoch, or 0 with *valid unset: what datetime() accepts
 * (years 1-9999, real days, no leap second). Days from the civil date: Howard Hinnant's
 * algorithm, because timegm() would normalise a February 30 instead of refusing it. */
static long long sdk_date(const char *text, size_t size, int *valid) {
    *valid = 0;
    if (size != DATE_SIZE || text[8] != 'T' || text[15] != 'Z') return 0;
    int year = digits(text, 4), month = digits(text + 4, 2), day = digits(text + 6, 2);
    int hour = digits(text + 9, 2), minute = digits(text + 11, 2), second = digits(text + 13, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 59)
        return 0;
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > month_days[month - 1] + (month == 2 && leap)) return 0;
    long long y = year - (month <= 2), era = y / 400;
    long long year_of_era = y - era * 400;
    long long day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    long long day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    long long days = era * 146097 + day_of_era - 719468;
    *valid = 1;
    return days * 86400 + hour * 3600 + minute * 60 + second;
}

/* Whether a path and query as sent are their own canonical forms (see is_unreserved); if so,
 * whether the canonical URI adds a "/" and the canonical query an "=". */
static int is_plain(PyObject *path, PyObject *query, int *slash, int *equals) {
    const char *uri = PyBytes_AS_STRING(path), *query_text = PyBytes_AS_STRING(query);
    Py_ssize_t uri_size = PyBytes_GET_SIZE(path), query_size = PyBytes_GET_SIZE(query);
    for (Py_ssize_t i = 0; i < uri_size; i++)
        if (!is_unreserved(uri[i]) && uri[i] != '/') return 0;
    int seen = 0;
    for (Py_ssize_t i = 0; i < query_size; i++) {
        if (query_text[i] == '=') {
            if (seen++) return 0; /* a second "=" belongs to the value: encoded */
        } else if (!is_unreserved(query_text[i])) {
            return 0;
        }
    }
    *slash = uri_size == 0 || uri[uri_size - 1] != '/';
    *equals = query_size > 0 && !seen;
    return 1;
}

/* The outcome of comparing the signature with the request's (MISMATCH or VERIFIED), or -1 with
 * an exception set. ``date`` is the 16 characters of X-Sdk-Date; ``payload_hash`` the 64 hex
 * digits of the body's SHA-256; ``slash`` and ``equals`` what is_plain() said, or 0 for a
 * canonical URI and query.
 *
 * The canonical request is the method, URI and query, one "name:value" line per signed header
 * (the value stripped, "" when absent), the signed list and the payload's hash, joined by
 * newlines; its SHA-256 goes into "SDK-HMAC-SHA256\n<date>\n<hex digest>", which is signed with
 * the secret and compared with the signature in constant time. */
static int signed_outcome(PyObject *secret, PyObject *names, PyObject *signed_list, const char *signature,
                          PyObject *method, PyObject *path, PyObject *query, int slash, int equals,
                          PyObject *headers, const char *payload_hash, const char *date) {
    const char *uri = PyBytes_AS_STRING(path), *query_text = PyBytes_AS_STRING(query);
    Py_ssize_t uri_size = PyBytes_GET_SIZE(path), query_size = PyBytes_GET_SIZE(query);
    Py_ssize_t method_size;
    const char *method_text = PyUnicode_AsUTF8AndSize(method, &method_size);
    if (method_text == NULL) return -1;

    Buffer request = {.data = NULL, .size = 0, .capacity = sizeof request.inline_space};
    request.data = request.inline_space;
    int failed = 0;
#define ADD(bytes, size) failed = failed || buffer_add(&request, (bytes), (size)) < 0
#define ADD_OBJECT(object) ADD(PyBytes_AS_STRING(object), (size_t)PyBytes_GET_SIZE(object))
    for (Py_ssize_t i = 0; i < method_size && !failed; i++) {
        char c = method_text[i] >= 'a' && method_text[i] <= 'z' ? (char)(method_text[i] - 32) : method_text[i];
        ADD(&c, 1);
    }
    ADD("\n", 1);
    ADD(uri, (size_t)uri_size);
    if (slash) ADD("/", 1);
    ADD("\n", 1);
    ADD(query_text, (size_t)query_size);
    if (equals) ADD("=", 1);
    ADD("\n", 1);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names) && !failed; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        if (!PyBytes_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "signed header names must be bytes");
            failed = 1;
            break;
        }
        PyObject *value = PyDict_GetItemWithError(headers, name); /* borrowed: copied before the next lookup */
        if (value == NULL && PyErr_Occurred()) {
            failed = 1;
            break;
        }
        const char *start = "";
        size_t size = 0;
        if (value != NULL) {
            if (!PyBytes_Check(value)) {
                PyErr_SetString(PyExc_TypeError, "header values must be bytes");
                failed = 1;
                break;
            }
            start = PyBytes_AS_STRING(value);
            size = (size_t)PyBytes_GET_SIZE(value);
            while (size > 0 && is_space(start[0])) start++, size--;
            while (size > 0 && is_space(start[size - 1])) size--;
        }
        ADD_OBJECT(name);
        ADD(":", 1);
        ADD(start, size);
        ADD("\n", 1);
    }
    ADD("\n", 1);
    ADD_OBJECT(signed_list);
    ADD("\n", 1);
    ADD(payload_hash, 64);
#undef ADD
#undef ADD_OBJECT

    unsigned char digest[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0, mac_size = 0;
    char to_sign[16 + DATE_SIZE + 1 + 2 * EVP_MAX_MD_SIZE];
    if (!failed && !sha256(request.data, request.size, NULL, 0, digest, &digest_size)) {
        PyErr_SetString(PyExc_RuntimeError, "SHA-256 failed");
        failed = 1;
    }
    if (!failed) {
        memcpy(to_sign, "SDK-HMAC-SHA256\n", 16);
        memcpy(to_sign + 16, date, DATE_SIZE);
        to_sign[16 + DATE_SIZE] = '\n';
        hex(digest, digest_size, to_sign + 17 + DATE_SIZE);
        size_t to_sign_size = 17 + DATE_SIZE + 2 * (size_t)digest_size;
        if (!hmac_sha256((const unsigned char *)PyBytes_AS_STRING(secret), (size_t)PyBytes_GET_SIZE(secret),
                         (const unsigned char *)to_sign, to_sign_size, mac, &mac_size)) {
            PyErr_SetString(PyExc_RuntimeError, "HMAC-SHA256 failed");
            failed = 1;
        }
    }
    if (request.data != request.inline_space) free(request.data);
    if (failed) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    char expected[2 * EVP_MAX_MD_SIZE];
    hex(mac, mac_size, expected);
    /* In constant time, whatever the case of the given hex digits ("| 0x20" lowers A-F and
     * leaves digits as they are). */
    unsigned char difference = mac_size == 32 ? 0 : 1;
    for (int i = 0; i < 64; i++) difference |= (unsigned char)(expected[i] ^ (signature[i] | 0x20));
    return difference ? MISMATCH : VERIFIED;
}

/* check(secret, names, signed_list, signature, method, path, query, headers, body, now, canonical)
 *     -> outcome
 *
 * Whether a request is signed as huaweicloudsdkcore's Signer signs it, in the order a client
 * should learn what is wrong: the signature's form, the signed X-Sdk-Date and its distance from
 * ``now`` (epoch seconds), X-Sdk-Content-Sha256 being signed and, with a body, being the body's
 * hash; then the signature itself, which with ``secret`` None is not checked (UNCHECKED: what can
 * be refused before the key is known). ``path`` and ``query`` are the raw path and query string
 * as the client sent them, canonicalised here when they need no percent-encoding (NOT_PLAIN
 * otherwise); or, with ``canonical`` true, the canonical URI and query already. */
static PyObject *check(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError, "check() takes 11 arguments");
        return NULL;
    }
    PyObject *secret = args[0], *names = args[1], *signed_list = args[2], *given = args[3], *method = args[4];
    PyObject *path = args[5], *query = args[6], *headers = args[7], *body = args[8];
    if ((secret != Py_None && !PyBytes_Check(secret)) || !PyTuple_Check(names) || !PyBytes_Check(signed_list) ||
        !PyBytes_Check(given) || !PyUnicode_Check(method) || !PyBytes_Check(path) || !PyBytes_Check(query) ||
        !PyDict_Check(headers) || !PyBytes_Check(body)) {
        PyErr_SetString(PyExc_TypeError, "check() got an argument of the wrong type");
        return NULL;
    }
    double now = PyFloat_AsDouble(args[9]);
    if (now == -1.0 && PyErr_Occurred()) return NULL;
    int canonical = PyObject_IsTrue(args[10]);
    if (canonical < 0) return NULL;

    const char *signature = PyBytes_AS_STRING(given);
    if (PyBytes_GET_SIZE(given) != 64) return PyLong_FromLong(MALFORMED_SIGNATURE);
    for (int i = 0; i < 64; i++)
        if (!is_hex(signature[i])) return PyLong_FromLong(MALFORMED_SIGNATURE);

    /* The values looked up here are borrowed from the dict; a later lookup could (in principle)
     * run code that drops them, so the date is copied and the declared hash used before any. */
    PyObject *found = PyDict_GetItemWithError(headers, date_name);
    if (found == NULL && PyErr_Occurred()) return NULL;
    if (found == NULL || !PyBytes_Check(found) || PyBytes_GET_SIZE(found) == 0 || !has_name(names, "x-sdk-date", 10))
        return PyLong_FromLong(NO_DATE);
    int valid;
    long long sent = sdk_date(PyBytes_AS_STRING(found), (size_t)PyBytes_GET_SIZE(found), &valid);
    if (!valid) return PyLong_FromLong(MALFORMED_DATE);
    if (now - (double)sent > MAX_CLOCK_SKEW_SECONDS || (double)sent - now > MAX_CLOCK_SKEW_SECONDS)
        return PyLong_FromLong(DATE_SKEW);
    char date[DATE_SIZE];
    memcpy(date, PyBytes_AS_STRING(found), DATE_SIZE); /* sdk_date() accepts DATE_SIZE characters only */
    PyObject *declared = PyDict_GetItemWithError(headers, content_hash_name);
    if (declared == NULL && PyErr_Occurred()) return NULL;
    if (declared != NULL && !PyBytes_Check(declared)) declared = NULL;
    if (declared != NULL && PyBytes_GET_SIZE(declared) > 0 && !has_name(names, "x-sdk-content-sha256", 20))
        return PyLong_FromLong(UNSIGNED_CONTENT_HASH);
    /* Before the body is hashed: a path that aksk.py must canonicalise comes back with its body. */
    int slash = 0, equals = 0;
    if (secret != Py_None && !canonical && !is_plain(path, query, &slash, &equals))
        return PyLong_FromLong(NOT_PLAIN);

    /* The payload's hash is the body's own; a GET's empty body costs nothing. */
    const char *payload_hash = empty_hash;
    char body_hash[2 * EVP_MAX_MD_SIZE];
    if (PyBytes_GET_SIZE(body) > 0) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int size = 0;
        if (!sha256(PyBytes_AS_STRING(body), (size_t)PyBytes_GET_SIZE(body), NULL, 0, digest, &size)) {
            PyErr_SetString(PyExc_RuntimeError, "SHA-256 failed");
            return NULL;
        }
        hex(digest, size, body_hash);
        payload_hash = body_hash;
        if (declared != NULL && PyBytes_GET_SIZE(declared) > 0) {
            const char *value = PyBytes_AS_STRING(declared);
            size_t value_size = (size_t)PyBytes_GET_SIZE(declared);
            while (value_size > 0 && is_space(value[0])) value++, value_size--; /* as signed: stripped */
            while (value_size > 0 && is_space(value[value_size - 1])) value_size--;
            /* Blank is absent, for the SDK too (it hashes the body when the stripped value is ""). */
            if (value_size > 0 && (value_size != 64 || memcmp(value, body_hash, 64) != 0))
                return PyLong_FromLong(BODY_HASH_MISMATCH);
        }
    }
    if (secret == Py_None) return PyLong_FromLong(UNCHECKED);

    int outcome = signed_outcome(secret, names, signed_list, signature, method, path, query, slash, equals,
                                 headers, payload_hash, date);
    return outcome < 0 ? NULL : PyLong_FromLong(outcome);
}

static PyMethodDef methods[] = {
    {"check", (PyCFunction)(void (*)(void))check, METH_FASTCALL,
     "check(secret, names, signed_list, signature, method, path, query, headers, body, now, canonical) -> outcome"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "taskcenter.identity._sdk_hmac",
    .m_doc = "Whether a request carries its SDK-HMAC-SHA256 signature.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__sdk_hmac(void) {
    if (sha256_md == NULL) sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (sha256_ctx == NULL) sha256_ctx = EVP_MD_CTX_new();
    if (date_name == NULL) date_name = PyBytes_FromString("x-sdk-date");
    if (content_hash_name == NULL) content_hash_name = PyBytes_FromString("x-sdk-content-sha256");
    if (date_name == NULL || content_hash_name == NULL) return NULL;
    if (sha256_md == NULL || sha256_ctx == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL has no SHA-256");
        return NULL;
    }
    PyObject *created = PyModule_Create(&module);
    if (created == NULL) return NULL;
#define OUTCOME(name) PyModule_AddIntConstant(created, #name, name) < 0
    if (OUTCOME(VERIFIED) || OUTCOME(MALFORMED_SIGNATURE) || OUTCOME(NO_DATE) || OUTCOME(MALFORMED_DATE) ||
        OUTCOME(DATE_SKEW) || OUTCOME(UNSIGNED_CONTENT_HASH) || OUTCOME(MISMATCH) || OUTCOME(NOT_PLAIN) ||
        OUTCOME(UNCHECKED) || OUTCOME(BODY_HASH_MISMATCH)) {
        Py_DECREF(created);
        return NULL;
    }
#undef OUTCOME
    return created;
}
