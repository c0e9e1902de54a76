/* A SQLite reader thread that never takes the GIL (see taskcenter/storage/sqlite_polls.py).
 *
 * Why C: the poll lookups must run beside the event loop, on the other core. A Python thread
 * needs the GIL to start each statement and to hand back each result, and it gets the GIL only
 * when the event loop's thread blocks: measured, a batch then waited 350-500 µs to start and as
 * long again to end, and the event loop idled meanwhile. No library runs SQLite statements on a
 * thread of its own and signals completion through a file descriptor; this module does only that.
 *
 * The event loop thread submits a batch of parameter tuples; the reader thread binds each tuple
 * to one prepared statement, keeps the first column of the first row (or nothing), and writes to
 * an eventfd when the batch is done. The loop then collects finished batches, in order.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct {
    int is_text;
    char *text; /* owned, NUL-terminated; valid when is_text */
    Py_ssize_t size;
    int64_t integer;
} Param;

typedef struct Batch {
    struct Batch *next;
    Py_ssize_t count;  /* lookups */
    int arity;         /* parameters per lookup */
    Param *params;     /* count * arity */
    char **answers;    /* count; NULL for no row */
    int *answer_sizes; /* count */
    char *error;       /* set when the batch failed as a whole */
} Batch;

typedef struct {
    PyObject_HEAD
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int arity;
    int event_fd;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    Batch *todo_head, *todo_tail; /* submitted, not yet run */
    Batch *done_head, *done_tail; /* run, not yet collected */
    int stopping;
} Reader;

static void batch_free(Batch *batch) {
    if (batch == NULL) return;
    for (Py_ssize_t i = 0; i < batch->count * batch->arity; i++) {
        if (batch->params[i].is_text) free(batch->params[i].text);
    }
    if (batch->answers != NULL) {
        for (Py_ssize_t i = 0; i < batch->count; i++) free(batch->answers[i]);
    }
    free(batch->params);
    free(batch->answers);
    free(batch->answer_sizes);
    free(batch->error);
    free(batch);
}

static void batch_list_free(Batch *batch) {
    while (batch != NULL) {
        Batch *next = batch->next;
        batch_free(batch);
        batch = next;
    }
}

/* Runs on the reader thread, without the GIL: only SQLite and this batch's own memory. */
static void run_batch(Reader *self, Batch *batch) {
    sqlite3_stmt *stmt = self->stmt;
    for (Py_ssize_t i = 0; i < batch->count; i++) {
        Param *params = batch->params + i * batch->arity;
        int rc = SQLITE_OK;
        for (int p = 0; p < batch->arity && rc == SQLITE_OK; p++) {
            if (params[p].is_text) {
                rc = sqlite3_bind_text(stmt, p + 1, params[p].text, (int)params[p].size, SQLITE_STATIC);
            } else {
                rc = sqlite3_bind_int64(stmt, p + 1, params[p].integer);
            }
        }
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(stmt);
            if (rc == SQLITE_ROW) {
                const unsigned char *text = sqlite3_column_text(stmt, 0);
                int size = sqlite3_column_bytes(stmt, 0);
                if (text != NULL) {
                    char *copy = malloc((size_t)size + 1);
                    if (copy == NULL) {
                        rc = SQLITE_NOMEM;
                    } else {
                        memcpy(copy, text, (size_t)size);
                        copy[size] = '\0';
                        batch->answers[i] = copy;
                        batch->answer_sizes[i] = size;
                        rc = SQLITE_DONE;
                    }
                } else {
                    rc = SQLITE_DONE;
                }
            }
        }
        /* Reset at once: it ends the statement's read transaction, which would otherwise hold
         * back WAL checkpoints and hide later commits from the next lookup. */
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        if (rc != SQLITE_DONE) {
            const char *message = rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(self->db);
            batch->error = strdup(message != NULL ? message : "SQLite error");
            return;
        }
    }
}

static void *reader_main(void *arg) {
    Reader *self = (Reader *)arg;
    uint64_t one = 1;
    for (;;) {
        pthread_mutex_lock(&self->lock);
        while (self->todo_head == NULL && !self->stopping) pthread_cond_wait(&self->wake, &self->lock);
        if (self->todo_head == NULL) { /* stopping, nothing left */
            pthread_mutex_unlock(&self->lock);
            return NULL;
        }
        Batch *batch = self->todo_head;
        self->todo_head = batch->next;
        if (self->todo_head == NULL) self->todo_tail = NULL;
        pthread_mutex_unlock(&self->lock);

        batch->next = NULL;
        run_batch(self, batch);

        pthread_mutex_lock(&self->lock);
        if (self->done_tail != NULL) self->done_tail->next = batch;
        else self->done_head = batch;
        self->done_tail = batch;
        pthread_mutex_unlock(&self->lock);
        /* Cannot fail short of a bad descriptor; the counter cannot overflow in practice. */
        (void)!write(self->event_fd, &one, sizeof one);
    }
}

static int Reader_init(Reader *self, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"path", "setup", "query", NULL};
    const char *path, *setup, *query;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "sss", keywords, &path, &setup, &query)) return -1;
    if (self->db != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the reader is already open");
        return -1;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(self->db, setup, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v3(self->db, query, -1, SQLITE_PREPARE_PERSISTENT, &self->stmt, NULL);
    Py_END_ALLOW_THREADS
    if (rc != SQLITE_OK) {
        PyErr_Format(PyExc_RuntimeError, "SQLite reader: %s", self->db ? sqlite3_errmsg(self->db) : "cannot open");
        return -1;
    }
    self->arity = sqlite3_bind_parameter_count(self->stmt);
    self->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->event_fd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    if (pthread_create(&self->thread, NULL, reader_main, self) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot start the SQLite reader thread");
        return -1;
    }
    self->thread_started = 1;
    return 0;
}

/* Lets the thread finish what was submitted, then stops it and closes the database. Finished
 * batches stay to be collected. */
static void reader_stop(Reader *self) {
    if (self->thread_started) {
        pthread_mutex_lock(&self->lock);
        self->stopping = 1;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->lock);
        Py_BEGIN_ALLOW_THREADS
        pthread_join(self->thread, NULL);
        Py_END_ALLOW_THREADS
        self->thread_started = 0;
        pthread_mutex_destroy(&self->lock);
        pthread_cond_destroy(&self->wake);
    }
    if (self->stmt != NULL) sqlite3_finalize(self->stmt);
    self->stmt = NULL;
    if (self->db != NULL) sqlite3_close_v2(self->db);
    self->db = NULL;
    if (self->event_fd >= 0) close(self->event_fd);
    self->event_fd = -1;
}

static PyObject *Reader_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Reader *self = (Reader *)type->tp_alloc(type, 0);
    if (self != NULL) self->event_fd = -1;
    return (PyObject *)self;
}

static void Reader_dealloc(Reader *self) {
    reader_stop(self);
    batch_list_free(self->todo_head);
    batch_list_free(self->done_head);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Reader_close(Reader *self, PyObject *unused) {
    reader_stop(self);
    Py_RETURN_NONE;
}

static PyObject *Reader_fileno(Reader *self, PyObject *unused) {
    if (self->event_fd < 0) {
        PyErr_SetString(PyExc_ValueError, "the reader is closed");
        return NULL;
    }
    return PyLong_FromLong(self->event_fd);
}

/* submit(lookups): each lookup a tuple of str and int, one per parameter of the query. */
static PyObject *Reader_submit(Reader *self, PyObject *lookups) {
    if (!self->thread_started) {
        PyErr_SetString(PyExc_ValueError, "the reader is closed");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(lookups, "submit() takes a list of tuples");
    if (seq == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    Batch *batch = calloc(1, sizeof(Batch));
    if (batch == NULL) goto nomem;
    batch->count = count;
    batch->arity = self->arity;
    batch->params = calloc((size_t)(count * self->arity) + 1, sizeof(Param));
    batch->answers = calloc((size_t)count + 1, sizeof(char *));
    batch->answer_sizes = calloc((size_t)count + 1, sizeof(int));
    if (batch->params == NULL || batch->answers == NULL || batch->answer_sizes == NULL) goto nomem;
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *lookup = items[i];
        if (!PyTuple_Check(lookup) || PyTuple_GET_SIZE(lookup) != self->arity) {
            PyErr_Format(PyExc_TypeError, "each lookup must be a tuple of %d values", self->arity);
            goto fail;
        }
        for (int p = 0; p < self->arity; p++) {
            PyObject *value = PyTuple_GET_ITEM(lookup, p);
            Param *param = batch->params + i * self->arity + p;
            if (PyUnicode_Check(value)) {
                Py_ssize_t size;
                const char *utf8 = PyUnicode_AsUTF8AndSize(value, &size);
                if (utf8 == NULL) goto fail;
                param->text = malloc((size_t)size + 1);
                if (param->text == NULL) goto nomem;
                memcpy(param->text, utf8, (size_t)size + 1);
                param->size = size;
                param->is_text = 1;
            } else if (PyLong_Check(value)) {
                param->integer = PyLong_AsLongLong(value);
                if (param->integer == -1 && PyErr_Occurred()) goto fail;
            } else {
                PyErr_SetString(PyExc_TypeError, "a lookup's values must be str or int");
                goto fail;
            }
        }
    }
    Py_DECREF(seq);
    pthread_mutex_lock(&self->lock);
    if (self->todo_tail != NULL) self->todo_tail->next = batch;
    else self->todo_head = batch;
    self->todo_tail = batch;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    Py_RETURN_NONE;
nomem:
    PyErr_NoMemory();
fail:
    Py_DECREF(seq);
    batch_free(batch);
    return NULL;
}

/* collect(): the finished batches, oldest first: each a list of bytes or None per lookup, or
 * a str saying why the whole batch failed. */
static PyObject *Reader_collect(Reader *self, PyObject *unused) {
    Batch *batch;
    if (self->thread_started) {
        uint64_t counter;
        (void)!read(self->event_fd, &counter, sizeof counter); /* EAGAIN when nothing is signalled */
        pthread_mutex_lock(&self->lock);
        batch = self->done_head;
        self->done_head = self->done_tail = NULL;
        pthread_mutex_unlock(&self->lock);
    } else { /* closed: the thread is gone, what it finished is still here */
        batch = self->done_head;
        self->done_head = self->done_tail = NULL;
    }

    PyObject *finished = PyList_New(0);
    if (finished == NULL) {
        batch_list_free(batch);
        return NULL;
    }
    while (batch != NULL) {
        PyObject *item;
        if (batch->error != NULL) {
            item = PyUnicode_DecodeUTF8(batch->error, (Py_ssize_t)strlen(batch->error), "replace");
        } else {
            item = PyList_New(batch->count);
            for (Py_ssize_t i = 0; item != NULL && i < batch->count; i++) {
                PyObject *answer;
                if (batch->answers[i] == NULL) {
                    answer = Py_NewRef(Py_None);
                } else {
                    answer = PyBytes_FromStringAndSize(batch->answers[i], batch->answer_sizes[i]);
                    if (answer == NULL) Py_CLEAR(item);
                }
                if (item != NULL) PyList_SET_ITEM(item, i, answer);
            }
        }
        Batch *next = batch->next;
        batch_free(batch);
        batch = next;
        if (item == NULL || PyList_Append(finished, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(finished);
            batch_list_free(batch);
            return NULL;
        }
        Py_DECREF(item);
    }
    return finished;
}

static PyMethodDef Reader_methods[] = {
    {"submit", (PyCFunction)Reader_submit, METH_O, "Queue a batch of lookups (a list of parameter tuples)."},
    {"collect", (PyCFunction)Reader_collect, METH_NOARGS, "The finished batches, oldest first."},
    {"fileno", (PyCFunction)Reader_fileno, METH_NOARGS, "The eventfd that becomes readable when a batch ends."},
    {"close", (PyCFunction)Reader_close, METH_NOARGS, "Stop the thread (after its batches) and close the database."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "taskcenter.storage._sqlite_reader.Reader",
    .tp_doc = "Runs one prepared SQLite query per lookup on a thread of its own, without the GIL.",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Reader_new,
    .tp_init = (initproc)Reader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = Reader_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "taskcenter.storage._sqlite_reader",
    .m_doc = "A SQLite reader thread that never takes the GIL.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__sqlite_reader(void) {
    if (PyType_Ready(&ReaderType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
