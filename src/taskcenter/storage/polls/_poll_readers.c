/* Reader threads for the poll lookups that never take the GIL (see taskcenter/storage/polls.py).
 *
 * Why C: the poll lookups must run beside the event loop, on the other core, and the event loop
 * must never wait for them. A Python thread needs the GIL to start each batch and to hand back
 * its answers, and gets it only when the event loop's thread blocks: measured under load, a
 * SQLite batch waited 350-500 µs to start and as long again to end, and the event loop idled a
 * fifth of the time. On PostgreSQL, asyncpg would run the protocol on the event loop's thread.
 * No library runs database statements on threads of their own and signals completion through a
 * file descriptor; this module does only that.
 *
 * The event loop's thread submits a batch (the lookups' parameters, copied into C memory) and
 * gets its number; a worker thread runs it with no Python object in reach, renders one answer
 * (or none) per lookup from the job's shown columns, and writes to an eventfd. The event loop
 * watches that eventfd and collects finished batches by number. A driver says how a batch runs:
 * SqliteReader binds each lookup to one prepared statement, whose row is the shown columns;
 * PostgresReader runs one statement per batch, whose parameters are arrays of the lookups' values
 * and whose rows are (lookup index, shown columns).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_WORKERS 8

typedef struct {
    int is_text;
    char *text; /* owned, NUL-terminated; valid when is_text */
    Py_ssize_t size;
    int64_t integer;
} Param;

typedef struct Batch {
    struct Batch *next;
    unsigned long long number;
    Py_ssize_t count;   /* lookups, and so answers */
    Py_ssize_t nparams; /* count * the reader's arity */
    Param *params;
    char **answers;     /* count; NULL for none */
    int *answer_sizes;  /* count */
    char *error;        /* set when the batch failed as a whole */
} Batch;

struct Reader;

typedef struct {
    struct Reader *reader;
    pthread_t thread;
    int started;
    /* The driver's own connection: a worker's alone, used only on its thread after opening. */
    sqlite3 *db;
    sqlite3_stmt *stmt;
    PGconn *pg;
} Worker;

typedef struct {
    void (*run)(Worker *worker, Batch *batch); /* on the worker thread, without the GIL */
    void (*close)(Worker *worker);             /* after the thread has stopped */
} Driver;

typedef struct Reader {
    PyObject_HEAD
    const Driver *driver;
    char *conninfo; /* PostgresReader: where, what each connection runs first, the statement */
    char *setup;
    char *query;
    int arity;      /* a lookup's parameters: SqliteReader's statement's; PostgresReader's PG_ARRAYS */
    int event_fd;
    Worker workers[MAX_WORKERS];
    int open;       /* threads running and accepting batches */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int sync_ready; /* lock and wake initialised */
    Batch *todo_head, *todo_tail; /* submitted, not yet taken by a worker */
    Batch *done_head, *done_tail; /* run, not yet collected */
    unsigned long long submitted;
    int stopping;
} Reader;

static char *copy_text(const char *text, size_t size) {
    char *copy = malloc(size + 1);
    if (copy != NULL) {
        memcpy(copy, text, size);
        copy[size] = '\0';
    }
    return copy;
}

static void batch_free(Batch *batch) {
    if (batch == NULL) return;
    if (batch->params != NULL) {
        for (Py_ssize_t i = 0; i < batch->nparams; i++) free(batch->params[i].text);
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

static void batch_fail(Batch *batch, const char *message) {
    free(batch->error);
    batch->error = strdup(message != NULL && message[0] != '\0' ? message : "database error");
}

/* ---------------------------------------------------------------- the answer */

/* A job's shown columns, as a driver read them; a NULL text is SQL's NULL. */
typedef struct {
    const char *text;
    size_t size;
} Text;

typedef struct {
    Text id, name, status, instance_id, instance_name, entities, fail_reason;
    int64_t created_us, ended_us; /* since the Unix epoch */
    int ended, progress;
} ShownJob;

typedef struct {
    char *data;
    size_t size, capacity;
    int failed; /* out of memory */
} Out;

static void out_add(Out *out, const char *bytes, size_t size) {
    if (out->failed) return;
    if (out->size + size > out->capacity) {
        size_t capacity = (out->size + size) * 2;
        char *grown = realloc(out->data, capacity);
        if (grown == NULL) {
            out->failed = 1;
            return;
        }
        out->data = grown;
        out->capacity = capacity;
    }
    memcpy(out->data + out->size, bytes, size);
    out->size += size;
}

#define OUT_LITERAL(out, literal) out_add((out), (literal), sizeof(literal) - 1)

/* A JSON string as orjson writes one: quotes, backslashes and control characters escaped, the
 * rest (UTF-8 included) as it is. SQL's NULL is written as "". */
static void out_string(Out *out, Text text) {
    static const char digits[] = "0123456789abcdef";
    OUT_LITERAL(out, "\"");
    size_t start = 0;
    for (size_t i = 0; text.text != NULL && i < text.size; i++) {
        unsigned char c = (unsigned char)text.text[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out_add(out, text.text + start, i - start);
        start = i + 1;
        char escape[6] = {'\\', (char)c, '0', '0', digits[c >> 4], digits[c & 15]};
        switch (c) {
            case '"': case '\\': break;
            case '\b': escape[1] = 'b'; break;
            case '\f': escape[1] = 'f'; break;
            case '\n': escape[1] = 'n'; break;
            case '\r': escape[1] = 'r'; break;
            case '\t': escape[1] = 't'; break;
            default:
                escape[1] = 'u';
                out_add(out, escape, 6);
                continue;
        }
        out_add(out, escape, 2);
    }
    if (text.text != NULL) out_add(out, text.text + start, text.size - start);
    OUT_LITERAL(out, "\"");
}

/* yyyy-mm-ddThh:mm:ss+0000, the fraction of a second cut off (taskcenter.domain.wire.format_time). */
static void out_time(Out *out, int64_t us) {
    time_t seconds = (time_t)(us / 1000000 - (us % 1000000 < 0));
    struct tm tm;
    char text[64];
    if (gmtime_r(&seconds, &tm) == NULL) {
        out->failed = 1;
        return;
    }
    int size = snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d+0000", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    out_add(out, text, (size_t)size);
}

static int text_is(Text text, const char *literal) {
    size_t size = strlen(literal);
    return text.text != NULL && text.size == size && memcmp(text.text, literal, size) == 0;
}

/* Stores the answer to a lookup, {"job": job_info(job)} compact as the cloud writes it
 * (taskcenter.domain.wire.job_info is the definition; the store contract tests hold this to
 * it); 0 when out of memory. Rendered here, on the reader's thread, rather than in SQL: in
 * PostgreSQL it cost a fifth of each lookup's CPU, on the machine's shared cores. */
static int batch_answer(Batch *batch, Py_ssize_t index, const ShownJob *job) {
    static const Text none = {"", 0};
    Out out = {malloc(512), 0, 512, 0};
    if (out.data == NULL) return 0;
    int has_instance = job->instance_id.text != NULL;
    OUT_LITERAL(&out, "{\"job\":{\"id\":");
    out_string(&out, job->id);
    OUT_LITERAL(&out, ",\"name\":");
    out_string(&out, job->name);
    OUT_LITERAL(&out, ",\"status\":");
    out_string(&out, job->status);
    OUT_LITERAL(&out, ",\"created\":\"");
    out_time(&out, job->created_us);
    OUT_LITERAL(&out, "\",\"ended\":\"");
    if (job->ended) out_time(&out, job->ended_us);
    OUT_LITERAL(&out, "\",\"process\":\"");
    if (text_is(job->status, "Running")) {
        char percent[16];
        int size = snprintf(percent, sizeof percent, "%d%%", job->progress);
        out_add(&out, percent, (size_t)size);
    }
    OUT_LITERAL(&out, "\",\"instance\":{\"id\":");
    out_string(&out, has_instance ? job->instance_id : none);
    OUT_LITERAL(&out, ",\"name\":");
    out_string(&out, has_instance ? job->instance_name : none);
    OUT_LITERAL(&out, "},\"entities\":");
    if (job->entities.text != NULL && job->entities.size > 0) out_add(&out, job->entities.text, job->entities.size);
    else OUT_LITERAL(&out, "{}");
    OUT_LITERAL(&out, ",\"fail_reason\":");
    out_string(&out, text_is(job->status, "Failed") ? job->fail_reason : none);
    OUT_LITERAL(&out, "}}");
    if (out.failed) {
        free(out.data);
        return 0;
    }
    free(batch->answers[index]);
    batch->answers[index] = out.data;
    batch->answer_sizes[index] = (int)out.size;
    return 1;
}

/* ---------------------------------------------------------------- SQLite */

static Text sqlite_text(sqlite3_stmt *stmt, int column) {
    Text text = {NULL, 0};
    if (sqlite3_column_type(stmt, column) != SQLITE_NULL) {
        text.text = (const char *)sqlite3_column_text(stmt, column);
        text.size = (size_t)sqlite3_column_bytes(stmt, column);
    }
    return text;
}

/* The statement's columns: id, name, status, created_us, ended_us, progress, instance_id,
 * instance_name, entities, fail_reason. */
static void sqlite_run(Worker *worker, Batch *batch) {
    sqlite3_stmt *stmt = worker->stmt;
    int arity = worker->reader->arity;
    for (Py_ssize_t i = 0; i < batch->count; i++) {
        Param *params = batch->params + i * arity;
        int rc = SQLITE_OK;
        for (int p = 0; p < arity && rc == SQLITE_OK; p++) {
            rc = params[p].is_text
                ? sqlite3_bind_text(stmt, p + 1, params[p].text, (int)params[p].size, SQLITE_STATIC)
                : sqlite3_bind_int64(stmt, p + 1, params[p].integer);
        }
        if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            ShownJob job = {
                .id = sqlite_text(stmt, 0),
                .name = sqlite_text(stmt, 1),
                .status = sqlite_text(stmt, 2),
                .created_us = sqlite3_column_int64(stmt, 3),
                .ended = sqlite3_column_type(stmt, 4) != SQLITE_NULL,
                .ended_us = sqlite3_column_int64(stmt, 4),
                .progress = sqlite3_column_int(stmt, 5),
                .instance_id = sqlite_text(stmt, 6),
                .instance_name = sqlite_text(stmt, 7),
                .entities = sqlite_text(stmt, 8),
                .fail_reason = sqlite_text(stmt, 9),
            };
            rc = batch_answer(batch, i, &job) ? SQLITE_DONE : SQLITE_NOMEM;
        }
        /* Reset at once: it ends the statement's read transaction, which would otherwise hold
         * back WAL checkpoints and hide later commits from the next lookup. */
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        if (rc != SQLITE_DONE) {
            batch_fail(batch, rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(worker->db));
            return;
        }
    }
}

static void sqlite_close(Worker *worker) {
    if (worker->stmt != NULL) sqlite3_finalize(worker->stmt);
    if (worker->db != NULL) sqlite3_close_v2(worker->db);
    worker->stmt = NULL;
    worker->db = NULL;
}

static const Driver sqlite_driver = {sqlite_run, sqlite_close};

/* ---------------------------------------------------------------- PostgreSQL */

/* Connects (again) when there is no healthy connection: after a failure the next batch tries
 * anew, so polls recover by themselves when the database comes back. */
static int pg_ready(Worker *worker, Batch *batch) {
    if (worker->pg != NULL && PQstatus(worker->pg) == CONNECTION_OK) return 1;
    if (worker->pg != NULL) PQfinish(worker->pg);
    /* The store's URL, with bounds on connecting and on a silent peer: an unreachable host
     * must fail the batch (and its polls, with 500s) in seconds, not after TCP's minutes. */
    const char *keys[] = {"dbname", "connect_timeout", "tcp_user_timeout", "application_name", NULL};
    const char *values[] = {worker->reader->conninfo, "10", "10000", "taskcenter-polls", NULL};
    worker->pg = PQconnectdbParams(keys, values, 1);
    if (worker->pg == NULL) {
        batch_fail(batch, "out of memory");
        return 0;
    }
    if (PQstatus(worker->pg) == CONNECTION_OK) {
        PGresult *setup = PQexec(worker->pg, worker->reader->setup);
        int ok = PQresultStatus(setup) == PGRES_COMMAND_OK || PQresultStatus(setup) == PGRES_EMPTY_QUERY;
        PQclear(setup);
        if (ok) {
            PGresult *prepared = PQprepare(worker->pg, "poll", worker->reader->query, 0, NULL);
            ok = PQresultStatus(prepared) == PGRES_COMMAND_OK;
            PQclear(prepared);
        }
        if (ok) return 1;
    }
    batch_fail(batch, PQerrorMessage(worker->pg));
    PQfinish(worker->pg);
    worker->pg = NULL;
    return 0;
}

/* Binary results: integers in network byte order, texts (json's included) as they are. */
static uint64_t pg_integer(const PGresult *result, int row, int column) {
    const unsigned char *bytes = (const unsigned char *)PQgetvalue(result, row, column);
    uint64_t value = 0;
    for (int i = 0; i < PQgetlength(result, row, column); i++) value = value << 8 | bytes[i];
    return value;
}

static Text pg_text(const PGresult *result, int row, int column) {
    Text text = {NULL, 0};
    if (!PQgetisnull(result, row, column)) {
        text.text = PQgetvalue(result, row, column);
        text.size = (size_t)PQgetlength(result, row, column);
    }
    return text;
}

/* Microseconds from PostgreSQL's epoch (2000-01-01) to the Unix epoch's. Moved between the two in
 * unsigned arithmetic, which wraps: a signed one overflows (undefined behaviour) at the ends of the
 * range, where PostgreSQL's infinities lie and any lookup's parameter may. */
#define PG_EPOCH_US INT64_C(946684800000000)
#define FROM_PG_EPOCH(us) ((int64_t)((us) + (uint64_t)PG_EPOCH_US))

/* The statement's rows: (lookup index int4, id text, name, status, created_at timestamptz,
 * ended_at, progress int2, instance_id, instance_name, entities json, fail_reason). */
static const int pg_widths[11] = {4, -1, -1, -1, 8, 8, 2, -1, -1, -1, -1};

/* The statement's parameters are three arrays, one element per lookup, sent in PostgreSQL's
 * binary format: $1 uuid[] (the job ids), $2 text[] (the projects), $3 timestamptz[] (from when
 * an ended job is still visible). Measured in the backend (bench/NOTES.md), reading these cost a
 * third less per lookup than the one JSON text of keys that an earlier version parsed with
 * json_array_elements. */
#define PG_ARRAYS 3 /* and so a PostgresReader lookup's values */
#define OID_TEXT 25
#define OID_TIMESTAMPTZ 1184
#define OID_UUID 2950

static void out_be(Out *out, uint64_t value, int bytes) {
    char big_endian[8];
    for (int i = bytes - 1; i >= 0; i--, value >>= 8) big_endian[i] = (char)(value & 0xff);
    out_add(out, big_endian, (size_t)bytes);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A UUID's 16 bytes from its 36-character text; 0 if the text is not one. */
static int uuid_parse(const Param *param, unsigned char bytes[16]) {
    if (!param->is_text || param->size != 36) return 0;
    const char *text = param->text;
    for (int i = 0, b = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return 0;
            continue;
        }
        int high = hex_value(text[i]), low = hex_value(text[i + 1]);
        if (high < 0 || low < 0) return 0;
        bytes[b++] = (unsigned char)(high << 4 | low);
        i++;
    }
    return 1;
}

/* A one-dimensional array of the batch's lookups' ``p``-th values. A value that is not of the
 * element's kind (an id that is no UUID, say) is a NULL element: a lookup that finds nothing. */
static void pg_array(Out *out, const Batch *batch, int p, uint32_t element_type) {
    out_be(out, 1, 4); /* dimensions */
    out_be(out, 0, 4); /* flags: array_recv reads NULL elements by their length alone */
    out_be(out, element_type, 4);
    out_be(out, (uint64_t)batch->count, 4);
    out_be(out, 1, 4); /* lower bound */
    for (Py_ssize_t i = 0; i < batch->count; i++) {
        const Param *param = batch->params + i * PG_ARRAYS + p;
        unsigned char uuid[16];
        if (element_type == OID_UUID && uuid_parse(param, uuid)) {
            out_be(out, 16, 4);
            out_add(out, (const char *)uuid, 16);
        } else if (element_type == OID_TEXT && param->is_text) {
            out_be(out, (uint64_t)param->size, 4);
            out_add(out, param->text, (size_t)param->size);
        } else if (element_type == OID_TIMESTAMPTZ && !param->is_text) {
            out_be(out, 8, 4);
            out_be(out, (uint64_t)param->integer - (uint64_t)PG_EPOCH_US, 8);
        } else {
            out_be(out, UINT32_MAX, 4); /* -1: NULL */
        }
    }
}

/* The batch's statement run, on a new connection if need be: its rows, or NULL with the batch
 * failed. */
static PGresult *pg_execute(Worker *worker, Batch *batch) {
    static const uint32_t types[PG_ARRAYS] = {OID_UUID, OID_TEXT, OID_TIMESTAMPTZ};
    static const int formats[PG_ARRAYS] = {1, 1, 1};
    Out arrays[PG_ARRAYS] = {{0}};
    const char *values[PG_ARRAYS];
    int lengths[PG_ARRAYS];
    int failed = 0;
    for (int p = 0; p < PG_ARRAYS; p++) {
        pg_array(&arrays[p], batch, p, types[p]);
        values[p] = arrays[p].data;
        lengths[p] = (int)arrays[p].size;
        failed |= arrays[p].failed;
    }
    PGresult *result = NULL;
    for (int attempt = 0; !failed; attempt++) {
        int reused = worker->pg != NULL && PQstatus(worker->pg) == CONNECTION_OK;
        if (!pg_ready(worker, batch)) break;
        result = PQexecPrepared(worker->pg, "poll", PG_ARRAYS, values, lengths, formats, 1);
        if (PQresultStatus(result) == PGRES_TUPLES_OK) break;
        /* A connection that died while idle (a restarted server, a terminated backend) is found
         * out only now: the lookups only read, so they run once more on a new connection
         * rather than fail their polls. */
        int retry = reused && attempt == 0 && PQstatus(worker->pg) == CONNECTION_BAD;
        if (!retry) {
            const char *message = PQresultErrorMessage(result);
            batch_fail(batch, message != NULL && message[0] != '\0' ? message : PQerrorMessage(worker->pg));
        }
        PQclear(result);
        result = NULL;
        if (!retry) break;
    }
    if (failed) batch_fail(batch, "out of memory");
    for (int p = 0; p < PG_ARRAYS; p++) free(arrays[p].data);
    return result;
}

static void pg_run(Worker *worker, Batch *batch) {
    if (batch->count == 0) return; /* nothing to ask */
    PGresult *result = pg_execute(worker, batch);
    if (result == NULL) return;
    int rows = PQntuples(result);
    if (PQnfields(result) != 11) {
        batch_fail(batch, "the poll statement must return 11 columns");
        rows = 0;
    }
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < 11; c++) {
            int width = pg_widths[c];
            if (width > 0 && !PQgetisnull(result, r, c) && PQgetlength(result, r, c) != width) {
                batch_fail(batch, "the poll statement returned a column of an unexpected type");
                PQclear(result);
                return;
            }
        }
        if (PQgetisnull(result, r, 0)) continue;
        int64_t index = (int32_t)pg_integer(result, r, 0);
        if (index < 0 || index >= batch->count) continue;
        ShownJob job = {
            .id = pg_text(result, r, 1),
            .name = pg_text(result, r, 2),
            .status = pg_text(result, r, 3),
            .created_us = FROM_PG_EPOCH(pg_integer(result, r, 4)),
            .ended = !PQgetisnull(result, r, 5),
            .ended_us = FROM_PG_EPOCH(pg_integer(result, r, 5)),
            .progress = (int16_t)pg_integer(result, r, 6),
            .instance_id = pg_text(result, r, 7),
            .instance_name = pg_text(result, r, 8),
            .entities = pg_text(result, r, 9),
            .fail_reason = pg_text(result, r, 10),
        };
        if (!batch_answer(batch, (Py_ssize_t)index, &job)) {
            batch_fail(batch, "out of memory");
            break;
        }
    }
    PQclear(result);
}

static void pg_close(Worker *worker) {
    if (worker->pg != NULL) PQfinish(worker->pg);
    worker->pg = NULL;
}

static const Driver pg_driver = {pg_run, pg_close};

/* ---------------------------------------------------------------- threads and queues */

/* Appends to the todo or done queue; with the lock held. */
static void queue_append(Batch **head, Batch **tail, Batch *batch) {
    batch->next = NULL;
    if (*tail != NULL) (*tail)->next = batch;
    else *head = batch;
    *tail = batch;
}

/* The batches waiting behind a failed one fail with it, unrun; with the lock held.
 *
 * They would meet the same fault, and one by one: an unreachable server costs each batch a
 * connect timeout, a lock held on the jobs costs each a statement timeout. With many small
 * batches out, a poll at the back would wait for all of those ahead of it; so every poll waits
 * for one failure at most. Lookups only read: a client's retry runs in a new batch. */
static void fail_queued(Reader *self, const char *error) {
    static const char prefix[] = "not run, an earlier batch failed: ";
    Batch *batch = self->todo_head;
    self->todo_head = self->todo_tail = NULL;
    while (batch != NULL) {
        Batch *next = batch->next;
        char *message = malloc(sizeof prefix + strlen(error));
        if (message != NULL) {
            memcpy(message, prefix, sizeof prefix - 1);
            strcpy(message + sizeof prefix - 1, error);
            free(batch->error);
            batch->error = message;
            queue_append(&self->done_head, &self->done_tail, batch);
        } else { /* out of memory: it stays queued and runs */
            queue_append(&self->todo_head, &self->todo_tail, batch);
        }
        batch = next;
    }
}

static void *worker_main(void *arg) {
    Worker *worker = (Worker *)arg;
    Reader *self = worker->reader;
    uint64_t one = 1;
    for (;;) {
        pthread_mutex_lock(&self->lock);
        while (self->todo_head == NULL && !self->stopping) pthread_cond_wait(&self->wake, &self->lock);
        Batch *batch = self->todo_head;
        if (batch == NULL) { /* stopping, and nothing is left to run */
            pthread_mutex_unlock(&self->lock);
            return NULL;
        }
        self->todo_head = batch->next;
        if (self->todo_head == NULL) self->todo_tail = NULL;
        pthread_mutex_unlock(&self->lock);

        batch->next = NULL;
        self->driver->run(worker, batch);

        pthread_mutex_lock(&self->lock);
        queue_append(&self->done_head, &self->done_tail, batch);
        if (batch->error != NULL) fail_queued(self, batch->error);
        pthread_mutex_unlock(&self->lock);
        (void)!write(self->event_fd, &one, sizeof one); /* fails only on a closed descriptor */
    }
}

/* Starts the workers; with the GIL held. -1 with an exception set on failure. */
static int reader_start(Reader *self, int workers) {
    if (workers < 1 || workers > MAX_WORKERS) {
        PyErr_Format(PyExc_ValueError, "workers must be 1 to %d", MAX_WORKERS);
        return -1;
    }
    self->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->event_fd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    self->sync_ready = 1;
    for (int i = 0; i < workers; i++) {
        Worker *worker = &self->workers[i];
        worker->reader = self;
        if (pthread_create(&worker->thread, NULL, worker_main, worker) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "cannot start a reader thread");
            return -1;
        }
        worker->started = 1;
    }
    self->open = 1;
    return 0;
}

/* Lets the workers finish what was submitted, stops them and closes their connections.
 * Finished batches stay to be collected. */
static void reader_stop(Reader *self) {
    self->open = 0;
    if (self->sync_ready) {
        pthread_mutex_lock(&self->lock);
        self->stopping = 1;
        pthread_cond_broadcast(&self->wake);
        pthread_mutex_unlock(&self->lock);
    }
    for (int i = 0; i < MAX_WORKERS; i++) {
        Worker *worker = &self->workers[i];
        if (worker->started) {
            Py_BEGIN_ALLOW_THREADS
            pthread_join(worker->thread, NULL);
            Py_END_ALLOW_THREADS
            worker->started = 0;
        }
        if (self->driver != NULL) self->driver->close(worker);
    }
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
    if (self->sync_ready) {
        pthread_mutex_destroy(&self->lock);
        pthread_cond_destroy(&self->wake);
    }
    batch_list_free(self->todo_head);
    batch_list_free(self->done_head);
    free(self->conninfo);
    free(self->setup);
    free(self->query);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Reader_close(Reader *self, PyObject *unused) {
    reader_stop(self);
    Py_RETURN_NONE;
}

static PyObject *Reader_fileno(Reader *self, PyObject *unused) {
    if (!self->open) {
        PyErr_SetString(PyExc_ValueError, "the reader is closed");
        return NULL;
    }
    return PyLong_FromLong(self->event_fd);
}

/* Copies a str or int into a parameter; -1 with an exception set on failure. */
static int param_set(Param *param, PyObject *value) {
    if (PyUnicode_Check(value)) {
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(value, &size);
        if (utf8 == NULL) return -1;
        param->text = copy_text(utf8, (size_t)size);
        if (param->text == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        param->size = size;
        param->is_text = 1;
        return 0;
    }
    if (PyLong_Check(value)) {
        param->integer = PyLong_AsLongLong(value);
        return param->integer == -1 && PyErr_Occurred() ? -1 : 0;
    }
    PyErr_SetString(PyExc_TypeError, "a lookup's values must be str or int");
    return -1;
}

static Batch *batch_new(Reader *self, Py_ssize_t count, Py_ssize_t nparams) {
    if (!self->open) {
        PyErr_SetString(PyExc_ValueError, "the reader is closed");
        return NULL;
    }
    Batch *batch = calloc(1, sizeof(Batch));
    if (batch != NULL) {
        batch->count = count;
        batch->nparams = nparams;
        batch->params = calloc((size_t)nparams + 1, sizeof(Param));
        batch->answers = calloc((size_t)count + 1, sizeof(char *));
        batch->answer_sizes = calloc((size_t)count + 1, sizeof(int));
    }
    if (batch == NULL || batch->params == NULL || batch->answers == NULL || batch->answer_sizes == NULL) {
        batch_free(batch);
        PyErr_NoMemory();
        return NULL;
    }
    return batch;
}

/* Queues a batch for the workers; its number, which collect() reports it by. */
static PyObject *batch_submit(Reader *self, Batch *batch) {
    pthread_mutex_lock(&self->lock);
    batch->number = ++self->submitted;
    queue_append(&self->todo_head, &self->todo_tail, batch);
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    return PyLong_FromUnsignedLongLong(batch->number);
}

/* collect(): the finished batches as (number, answers): a list of bytes or None per lookup, or
 * a str saying why the whole batch failed. */
static PyObject *Reader_collect(Reader *self, PyObject *unused) {
    Batch *batch = NULL;
    if (self->sync_ready) {
        if (self->event_fd >= 0) {
            uint64_t counter;
            (void)!read(self->event_fd, &counter, sizeof counter); /* EAGAIN when none is signalled */
        }
        pthread_mutex_lock(&self->lock);
        batch = self->done_head;
        self->done_head = self->done_tail = NULL;
        pthread_mutex_unlock(&self->lock);
    }
    PyObject *finished = PyList_New(0);
    while (finished != NULL && batch != NULL) {
        PyObject *answers;
        if (batch->error != NULL) {
            answers = PyUnicode_DecodeUTF8(batch->error, (Py_ssize_t)strlen(batch->error), "replace");
        } else {
            answers = PyList_New(batch->count);
            for (Py_ssize_t i = 0; answers != NULL && i < batch->count; i++) {
                PyObject *answer = batch->answers[i] == NULL
                    ? Py_NewRef(Py_None)
                    : PyBytes_FromStringAndSize(batch->answers[i], batch->answer_sizes[i]);
                if (answer == NULL) Py_CLEAR(answers);
                else PyList_SET_ITEM(answers, i, answer);
            }
        }
        PyObject *item = answers == NULL ? NULL : Py_BuildValue("(KN)", batch->number, answers);
        if (item == NULL || PyList_Append(finished, item) < 0) Py_CLEAR(finished);
        Py_XDECREF(item);
        Batch *next = batch->next;
        batch_free(batch);
        batch = next;
    }
    batch_list_free(batch);
    return finished;
}

/* submit(lookups): each lookup a tuple of str and int: SqliteReader's, one per parameter of its
 * statement; PostgresReader's, (job id, project id, visible since in µs). */
static PyObject *Reader_submit(Reader *self, PyObject *lookups) {
    PyObject *seq = PySequence_Fast(lookups, "submit() takes a list of tuples");
    if (seq == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    Batch *batch = batch_new(self, count, count * self->arity);
    for (Py_ssize_t i = 0; batch != NULL && i < count; i++) {
        PyObject *lookup = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(lookup) || PyTuple_GET_SIZE(lookup) != self->arity) {
            PyErr_Format(PyExc_TypeError, "each lookup must be a tuple of %d values", self->arity);
            Py_CLEAR(seq);
        }
        for (int p = 0; seq != NULL && p < self->arity; p++) {
            if (param_set(batch->params + i * self->arity + p, PyTuple_GET_ITEM(lookup, p)) < 0) Py_CLEAR(seq);
        }
        if (seq == NULL) {
            batch_free(batch);
            return NULL;
        }
    }
    Py_DECREF(seq);
    return batch == NULL ? NULL : batch_submit(self, batch);
}

/* ---------------------------------------------------------------- SqliteReader */

static int SqliteReader_init(Reader *self, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"path", "setup", "query", NULL};
    const char *path, *setup, *query;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "sss", keywords, &path, &setup, &query)) return -1;
    if (self->driver != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the reader is already open");
        return -1;
    }
    self->driver = &sqlite_driver;
    Worker *worker = &self->workers[0];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sqlite3_open_v2(path, &worker->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(worker->db, setup, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v3(worker->db, query, -1, SQLITE_PREPARE_PERSISTENT, &worker->stmt, NULL);
    Py_END_ALLOW_THREADS
    if (rc != SQLITE_OK) {
        PyErr_Format(PyExc_RuntimeError, "SQLite reader: %s", worker->db ? sqlite3_errmsg(worker->db) : "out of memory");
        return -1;
    }
    self->arity = sqlite3_bind_parameter_count(worker->stmt);
    /* One thread, one connection: SQLite's cost here is memory latency, not waiting. */
    return reader_start(self, 1);
}

/* ---------------------------------------------------------------- PostgresReader */

static int PostgresReader_init(Reader *self, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"conninfo", "setup", "query", "workers", NULL};
    const char *conninfo, *setup, *query;
    int workers;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "sssi", keywords, &conninfo, &setup, &query, &workers)) return -1;
    if (self->driver != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the reader is already open");
        return -1;
    }
    self->driver = &pg_driver;
    self->conninfo = strdup(conninfo);
    self->setup = strdup(setup);
    self->query = strdup(query);
    self->arity = PG_ARRAYS;
    if (self->conninfo == NULL || self->setup == NULL || self->query == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    /* Each worker connects on its first batch, on its own thread. */
    return reader_start(self, workers);
}

/* ---------------------------------------------------------------- the module */

static PyMethodDef Reader_methods[] = {
    {"submit", (PyCFunction)Reader_submit, METH_O, "Queue a batch: a list of parameter tuples."},
    {"collect", (PyCFunction)Reader_collect, METH_NOARGS, "The finished batches: (number, answers)."},
    {"fileno", (PyCFunction)Reader_fileno, METH_NOARGS, "An eventfd, readable when a batch ends."},
    {"close", (PyCFunction)Reader_close, METH_NOARGS, "Run what was submitted, then stop."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SqliteReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "taskcenter.storage.polls._poll_readers.SqliteReader",
    .tp_doc = "One prepared SQLite statement per lookup, on a thread of its own, without the GIL.",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Reader_new,
    .tp_init = (initproc)SqliteReader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = Reader_methods,
};

static PyTypeObject PostgresReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "taskcenter.storage.polls._poll_readers.PostgresReader",
    .tp_doc = "One PostgreSQL statement per batch, on threads and connections of their own, without the GIL.",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Reader_new,
    .tp_init = (initproc)PostgresReader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_methods = Reader_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "taskcenter.storage.polls._poll_readers",
    .m_doc = "Reader threads for the poll lookups that never take the GIL.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__poll_readers(void) {
    if (PyType_Ready(&SqliteReaderType) < 0 || PyType_Ready(&PostgresReaderType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "SqliteReader", (PyObject *)&SqliteReaderType) < 0 ||
        PyModule_AddObjectRef(m, "PostgresReader", (PyObject *)&PostgresReaderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
