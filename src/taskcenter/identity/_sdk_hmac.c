/* The SDK-HMAC-SHA256 signature of a canonical request, in one call (see identity/aksk.py).
 *
 * Why C: every signed poll pays for this on the event loop's thread. In Python, joining the
 * canonical request, hashing it, and the HMAC over the string to sign took about 9 µs a request
 * in a loop and more in the server: the largest part of what an AK/SK poll costs beyond a token
 * poll. No library computes this scheme's signature from a request's parts (the SDK only signs
 * its own requests, in Python); this is the same steps, with OpenSSL's SHA-256.
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

/* signature(secret, method, uri, query, headers, names, signed_list, payload_hash, date) -> hex
 *
 * The canonical request is method, uri, query, one "name:value" line per signed header (the
 * value stripped, "" when absent), signed_list and payload_hash, joined by newlines; its SHA-256
 * goes into "SDK-HMAC-SHA256\n<date>\n<hex digest>", which is signed with the secret. */
static PyObject *signature(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "signature() takes 9 arguments");
        return NULL;
    }
    for (int i = 0; i < 9; i++) {
        int ok = i == 4 ? PyDict_Check(args[i]) : i == 5 ? PyTuple_Check(args[i]) : PyBytes_Check(args[i]);
        if (!ok) {
            PyErr_Format(PyExc_TypeError, "signature() argument %d has the wrong type", i + 1);
            return NULL;
        }
    }
    PyObject *headers = args[4], *names = args[5];
    Buffer request = {.data = NULL, .size = 0, .capacity = sizeof request.inline_space};
    request.data = request.inline_space;
    int failed = 0;
#define ADD(bytes, size) failed = failed || buffer_add(&request, (bytes), (size)) < 0
#define ADD_OBJECT(object) ADD(PyBytes_AS_STRING(object), (size_t)PyBytes_GET_SIZE(object))
    ADD_OBJECT(args[1]);
    ADD("\n", 1);
    ADD_OBJECT(args[2]);
    ADD("\n", 1);
    ADD_OBJECT(args[3]);
    ADD("\n", 1);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        if (!PyBytes_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "signed header names must be bytes");
            failed = 1;
            break;
        }
        PyObject *value = PyDict_GetItemWithError(headers, name);
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
    ADD_OBJECT(args[6]);
    ADD("\n", 1);
    ADD_OBJECT(args[7]);

    unsigned char digest[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0, mac_size = 0;
    char to_sign[256];
    size_t date_size = (size_t)PyBytes_GET_SIZE(args[8]);
    if (!failed && date_size > 64) {
        PyErr_SetString(PyExc_ValueError, "X-Sdk-Date is too long");
        failed = 1;
    }
    if (!failed && !sha256(request.data, request.size, NULL, 0, digest, &digest_size)) {
        PyErr_SetString(PyExc_RuntimeError, "SHA-256 failed");
        failed = 1;
    }
    size_t to_sign_size = 0;
    if (!failed) {
        memcpy(to_sign, "SDK-HMAC-SHA256\n", 16);
        memcpy(to_sign + 16, PyBytes_AS_STRING(args[8]), date_size);
        to_sign[16 + date_size] = '\n';
        hex(digest, digest_size, to_sign + 17 + date_size);
        to_sign_size = 17 + date_size + 2 * (size_t)digest_size;
        if (!hmac_sha256((const unsigned char *)PyBytes_AS_STRING(args[0]), (size_t)PyBytes_GET_SIZE(args[0]),
                         (const unsigned char *)to_sign, to_sign_size, mac, &mac_size)) {
            PyErr_SetString(PyExc_RuntimeError, "HMAC-SHA256 failed");
            failed = 1;
        }
    }
    if (request.data != request.inline_space) free(request.data);
    if (failed) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return NULL;
    }
    char out[2 * EVP_MAX_MD_SIZE];
    hex(mac, mac_size, out);
    return PyBytes_FromStringAndSize(out, 2 * (Py_ssize_t)mac_size);
#undef ADD
#undef ADD_OBJECT
}

static PyMethodDef methods[] = {
    {"signature", (PyCFunction)(void (*)(void))signature, METH_FASTCALL,
     "signature(secret, method, uri, query, headers, names, signed_list, payload_hash, date) -> hex bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "taskcenter.identity._sdk_hmac",
    .m_doc = "The SDK-HMAC-SHA256 signature of a canonical request.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__sdk_hmac(void) {
    if (sha256_md == NULL) sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (sha256_ctx == NULL) sha256_ctx = EVP_MD_CTX_new();
    if (sha256_md == NULL || sha256_ctx == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL has no SHA-256");
        return NULL;
    }
    return PyModule_Create(&module);
}
