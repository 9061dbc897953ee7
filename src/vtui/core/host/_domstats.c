/*
 * vtui.core.host._domstats: one host's bulk domain statistics, read with libvirt's C
 * API instead of libvirt-python's getAllDomainStats.
 *
 * Why: every libvirt call made on a domain reference (virDomainRef, virDomainFree,
 * virDomainGetUUID, ...) formats the domain's UUID with snprintf for a debug line,
 * whether debug logging is on or not, and releasing the last reference formats it once
 * more. libvirt-python takes a reference per record, its record list frees one, and
 * the caller then reads the UUID and frees its own: five formats per guest per sample,
 * about half of a sampling thread's CPU on a big fleet (perf). Here a record costs the
 * two that happen inside libvirt's bulk call and record release: the UUID's bytes are
 * read from the domain object once this process has learnt where they are (see
 * domain_uuid), its text is made from them, and only a guest the caller does not know
 * yet gets a reference of its own, for the calls that follow (its name, its info).
 *
 * The parameter dict is built as libvirt-python builds it (same keys, same value
 * types), except that a string that is not UTF-8 is decoded with replacement
 * characters instead of failing the whole sample.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <libvirt/libvirt.h>

static PyObject *
param_value(const virTypedParameter *p)
{
    switch (p->type) {
    case VIR_TYPED_PARAM_INT:
        return PyLong_FromLong(p->value.i);
    case VIR_TYPED_PARAM_UINT:
        return PyLong_FromUnsignedLong(p->value.ui);
    case VIR_TYPED_PARAM_LLONG:
        return PyLong_FromLongLong(p->value.l);
    case VIR_TYPED_PARAM_ULLONG:
        return PyLong_FromUnsignedLongLong(p->value.ul);
    case VIR_TYPED_PARAM_DOUBLE:
        return PyFloat_FromDouble(p->value.d);
    case VIR_TYPED_PARAM_BOOLEAN:
        return PyBool_FromLong(p->value.b);
    case VIR_TYPED_PARAM_STRING: {
        const char *s = p->value.s ? p->value.s : "";
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
    }
    default:
        Py_RETURN_NONE; /* a type newer than this module: left out (see below) */
    }
}

/*
 * The keys of the records read so far, by position: every record of a reply, and of
 * the next, names its fields in much the same order (state, cpu, balloon, then one
 * run per vCPU, NIC, disk), so a field that matches the one last seen at its
 * position reuses that interned key after a strcmp, instead of making a string and
 * looking it up in the interpreter's interned table (about 5 us less per record of
 * a lab QEMU guest's 19 fields). A miss interns as before and takes over the slot.
 * (Read holding the GIL, as the UUID statics below.)
 */
#define KEY_SLOTS 256
static PyObject *key_objects[KEY_SLOTS];
static char key_fields[KEY_SLOTS][VIR_TYPED_PARAM_FIELD_LENGTH];

static PyObject *
param_key(int position, const char *field)
{
    if (position >= KEY_SLOTS)
        return PyUnicode_InternFromString(field);
    PyObject *key = key_objects[position];
    if (key != NULL && strncmp(key_fields[position], field, VIR_TYPED_PARAM_FIELD_LENGTH) == 0)
        return Py_NewRef(key);
    key = PyUnicode_InternFromString(field);
    if (key == NULL)
        return NULL;
    Py_XSETREF(key_objects[position], Py_NewRef(key));
    strncpy(key_fields[position], field, VIR_TYPED_PARAM_FIELD_LENGTH - 1);
    key_fields[position][VIR_TYPED_PARAM_FIELD_LENGTH - 1] = '\0';
    return key;
}

static PyObject *
params_dict(const virTypedParameter *params, int nparams)
{
    PyObject *dict = PyDict_New();
    if (dict == NULL)
        return NULL;
    for (int i = 0; i < nparams; i++) {
        PyObject *value = param_value(&params[i]);
        if (value == NULL)
            goto error;
        if (value == Py_None) {
            Py_DECREF(value);
            continue;
        }
        /* field is NUL-terminated within its fixed-size array */
        PyObject *key = param_key(i, params[i].field);
        if (key == NULL) {
            Py_DECREF(value);
            goto error;
        }
        int failed = PyDict_SetItem(dict, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (failed)
            goto error;
    }
    return dict;
error:
    Py_DECREF(dict);
    return NULL;
}

/* libvirt's text form of a UUID: lowercase hex, 8-4-4-4-12 */
static PyObject *
uuid_text(const unsigned char *uuid)
{
    static const char hex[] = "0123456789abcdef";
    char out[VIR_UUID_STRING_BUFLEN];
    int o = 0;
    for (int i = 0; i < VIR_UUID_BUFLEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[uuid[i] >> 4];
        out[o++] = hex[uuid[i] & 0xf];
    }
    return PyUnicode_FromStringAndSize(out, o);
}

/*
 * A guest's UUID bytes without virDomainGetUUID's debug-line snprintf (a third of a
 * record's cost). A virDomain object holds its UUID at a fixed offset, but where is
 * libvirt's private business, so this process learns it: while unsure it asks
 * virDomainGetUUID and looks for those 16 bytes in the object's first bytes; an
 * offset that gave the right UUID for UUID_CHECKS guests in a row is read directly
 * from then on. Any disagreement, or no match at all, and it keeps asking libvirt.
 * (Records are read holding the GIL, so these statics need no lock.)
 */
/* where struct _virDomain's last field (the UUID) ends since virObject became a
   GObject: the scan stays inside the object */
#define UUID_SCAN_END 60
#define UUID_CHECKS 64
enum { UUID_ASK_LIBVIRT = -2, UUID_NOT_LEARNT = -1 };
static Py_ssize_t uuid_offset = UUID_NOT_LEARNT;
static int uuid_checks;

static Py_ssize_t
offset_of_uuid(virDomainPtr dom, const unsigned char *uuid)
{
    const unsigned char *object = (const unsigned char *)dom;
    for (Py_ssize_t at = 0; at + VIR_UUID_BUFLEN <= UUID_SCAN_END; at++)
        if (memcmp(object + at, uuid, VIR_UUID_BUFLEN) == 0)
            return at;
    return UUID_ASK_LIBVIRT;
}

static int
domain_uuid(virDomainPtr dom, unsigned char *uuid)
{
    if (uuid_offset >= 0 && uuid_checks >= UUID_CHECKS) {
        memcpy(uuid, (const unsigned char *)dom + uuid_offset, VIR_UUID_BUFLEN);
        return 0;
    }
    if (virDomainGetUUID(dom, uuid) < 0)
        return -1;
    if (uuid_offset == UUID_ASK_LIBVIRT)
        return 0;
    Py_ssize_t found = offset_of_uuid(dom, uuid);
    if (uuid_offset == UUID_NOT_LEARNT)
        uuid_offset = found;
    else if (found != uuid_offset)
        uuid_offset = UUID_ASK_LIBVIRT;
    else
        uuid_checks++;
    return 0;
}

/* (uuid text, name or None, params, domain capsule or None) for one record */
static PyObject *
record_tuple(virDomainStatsRecordPtr rec, PyObject *known)
{
    unsigned char uuid[VIR_UUID_BUFLEN];
    PyObject *text = NULL, *name = NULL, *params = NULL, *capsule = NULL;
    if (domain_uuid(rec->dom, uuid) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "libvirt could not give a domain's UUID");
        return NULL;
    }
    if ((text = uuid_text(uuid)) == NULL)
        return NULL;
    int is_known = PySequence_Contains(known, text);
    if (is_known < 0)
        goto error;
    if (!is_known) {
        const char *dom_name = virDomainGetName(rec->dom);
        if (dom_name == NULL)
            dom_name = "";
        name = PyUnicode_DecodeUTF8(dom_name, (Py_ssize_t)strlen(dom_name), "replace");
        if (name == NULL)
            goto error;
        /* the caller's reference, as libvirt-python's own virDomainPtr capsules are
           (no destructor: libvirtmod.virDomainFree or a libvirt.virDomain releases it) */
        if (virDomainRef(rec->dom) < 0) {
            PyErr_SetString(PyExc_RuntimeError, "libvirt could not reference a domain");
            goto error;
        }
        capsule = PyCapsule_New(rec->dom, "virDomainPtr", NULL);
        if (capsule == NULL) {
            virDomainFree(rec->dom);
            goto error;
        }
    }
    if ((params = params_dict(rec->params, rec->nparams)) == NULL)
        goto error;
    PyObject *tuple = PyTuple_New(4);
    if (tuple == NULL)
        goto error;
    /* the tuple takes over our references */
    PyTuple_SET_ITEM(tuple, 0, text);
    PyTuple_SET_ITEM(tuple, 1, name != NULL ? name : Py_NewRef(Py_None));
    PyTuple_SET_ITEM(tuple, 2, params);
    PyTuple_SET_ITEM(tuple, 3, capsule != NULL ? capsule : Py_NewRef(Py_None));
    return tuple;
error:
    Py_XDECREF(text);
    Py_XDECREF(name);
    Py_XDECREF(params);
    if (capsule != NULL) {
        virDomainFree(rec->dom);
        Py_DECREF(capsule);
    }
    return NULL;
}

PyDoc_STRVAR(uuid_source_doc,
"uuid_source() -> str\n\n"
"Where this process reads guests' UUIDs: 'learning' (from virDomainGetUUID, while\n"
"checking where the domain object keeps them), 'object' (read from the object) or\n"
"'libvirt' (virDomainGetUUID for good: the object did not hold them where expected).");

static PyObject *
uuid_source(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (uuid_offset == UUID_ASK_LIBVIRT)
        return PyUnicode_FromString("libvirt");
    return PyUnicode_FromString(uuid_checks >= UUID_CHECKS ? "object" : "learning");
}

PyDoc_STRVAR(domain_stats_doc,
"domain_stats(conn_capsule, stats, flags, known) -> list | None\n\n"
"virConnectGetAllDomainStats as a list of (uuid, name, params, domain) tuples.\n"
"uuid is libvirt's UUID text; for a UUID in `known` (anything supporting `in`), name\n"
"and domain are None; otherwise name is the guest's name and domain a virDomainPtr\n"
"capsule holding a reference the caller must release (libvirtmod.virDomainFree).\n"
"None when libvirt failed: its error is this thread's last libvirt error.");

static PyObject *
domain_stats(PyObject *self, PyObject *args)
{
    PyObject *pyconn, *known;
    unsigned int stats, flags;
    (void)self;
    if (!PyArg_ParseTuple(args, "OIIO:domain_stats", &pyconn, &stats, &flags, &known))
        return NULL;
    virConnectPtr conn = PyCapsule_GetPointer(pyconn, "virConnectPtr");
    if (conn == NULL)
        return NULL;
    virDomainStatsRecordPtr *records = NULL;
    int n;
    Py_BEGIN_ALLOW_THREADS
    n = virConnectGetAllDomainStats(conn, stats, &records, flags);
    Py_END_ALLOW_THREADS
    if (n < 0)
        Py_RETURN_NONE;
    PyObject *result = PyList_New(n);
    if (result != NULL) {
        for (int i = 0; i < n; i++) {
            PyObject *item = record_tuple(records[i], known);
            if (item == NULL) {
                /* the tuples made so far hold references in their capsules */
                for (int j = 0; j < i; j++) {
                    PyObject *dom = PyTuple_GET_ITEM(PyList_GET_ITEM(result, j), 3);
                    if (dom != Py_None)
                        virDomainFree(PyCapsule_GetPointer(dom, "virDomainPtr"));
                }
                Py_CLEAR(result);
                break;
            }
            PyList_SET_ITEM(result, i, item);
        }
    }
    virDomainStatsRecordListFree(records);
    return result;
}

static PyMethodDef methods[] = {
    {"domain_stats", domain_stats, METH_VARARGS, domain_stats_doc},
    {"uuid_source", uuid_source, METH_NOARGS, uuid_source_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "vtui.core.host._domstats",
    "One host's bulk domain statistics without a libvirt-python object per guest.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__domstats(void)
{
    return PyModule_Create(&module);
}
