/*
 * vtui.core.host._domstats: one host's bulk domain statistics, read with libvirt's C
 * API instead of libvirt-python's getAllDomainStats.
 *
 * Why: every libvirt call made on a domain reference (virDomainRef, virDomainFree,
 * virDomainGetUUID, ...) formats the domain's UUID with snprintf for a debug line,
 * whether debug logging is on or not, and releasing the last reference formats it once
 * more. libvirt-python takes a reference per record, its record list frees one, and
 * the caller then reads the UUID and frees its own: five formats per guest per sample,
 * about half of a sampling thread's CPU on a big fleet (perf). Here a record costs one
 * (virDomainGetUUID) plus the release in virDomainStatsRecordListFree, the UUID text
 * is made from its bytes, and only a guest the caller does not know yet gets a
 * reference of its own, for the calls that follow (its name, its info).
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
        PyObject *key = PyUnicode_InternFromString(params[i].field);
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

/* (uuid text, name or None, params, domain capsule or None) for one record */
static PyObject *
record_tuple(virDomainStatsRecordPtr rec, PyObject *known)
{
    unsigned char uuid[VIR_UUID_BUFLEN];
    PyObject *text = NULL, *name = NULL, *params = NULL, *capsule = NULL;
    if (virDomainGetUUID(rec->dom, uuid) < 0) {
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
