/* Model opening and queries. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph.h"
#include "loader.h"
#include "optimize.h"

const char *onnxc_version(void) { return ONNXC_VERSION_STRING; }

void onnxc_model_options_init(onnxc_model_options *options)
{
    if (!options) return;
    memset(options, 0, sizeof *options);
    options->optimize = 1;
}

void onnxc_model_free(onnxc_model *m)
{
    if (!m) return;
    oc_model_release(m);
    free(m);
}

/* Describes graph inputs and outputs for onnxc_model_input/output. Outputs
 * take the inferred shape when the model's shapes are static. */
static onnxc_status *fill_info(onnxc_model *m, int count, const int *ids, onnxc_tensor_info **out)
{
    onnxc_tensor_info *info = oc_arena_array(&m->arena, (size_t)count + 1, sizeof *info);
    if (!info) return oc_no_memory();
    for (int i = 0; i < count; i++) {
        const oc_value *v = &m->values[ids[i]];
        const oc_type_decl *d = v->decl;
        info[i].name = v->name;
        info[i].dtype = d ? (onnxc_dtype)d->dtype : ONNXC_DTYPE_UNDEFINED;
        info[i].rank = d ? d->rank : -1;
        info[i].shape = d ? d->dims : NULL;
        info[i].dim_names = d ? d->dim_names : NULL;
        if (m->static_shapes && v->shape_known) {
            info[i].dtype = v->info.dtype;
            info[i].rank = v->info.rank;
            info[i].shape = v->info.dims;
            if (!d || d->rank != v->info.rank) {
                const char **names = oc_arena_array(&m->arena, OC_MAX_RANK, sizeof *names);
                if (!names) return oc_no_memory();
                info[i].dim_names = names;
            }
        }
    }
    *out = info;
    return NULL;
}

/* Loads from data; with keep (data is a file mapping), the model may keep
 * referencing data, and then takes the mapping over (*took_source). */
static onnxc_status *open_model(const void *data, size_t size, const char *dir, const char *path,
                                const onnxc_model_options *options, bool keep, bool *took_source,
                                onnxc_model **out_model)
{
    *took_source = false;
    oc_limits limits;
    OC_TRY(oc_limits_from_options(options, &limits));
    onnxc_model *m = calloc(1, sizeof *m);
    if (!m) return oc_no_memory();
    m->limits = limits;
    m->budget = (oc_budget){.owner = "model", .limit = limits.max_bytes};
    m->arena.budget = &m->budget;
    onnxc_status *st = NULL;
    if (path && !(m->path = oc_arena_strdup(&m->arena, path))) st = oc_no_memory();
    bool borrowed = false;
    if (!st)
        st = keep ? oc_load_model_in_place(m, data, size, dir, &borrowed)
                  : oc_load_model(m, data, size, dir);
    if (borrowed) {
        /* Tensors point into the mapping: the model unmaps it when freed
         * (oc_model_own_map unmaps it at once if it cannot register it). */
        *took_source = true;
        onnxc_status *own = oc_model_own_map(m, (void *)data, size);
        if (!st) st = own;
        else onnxc_status_free(own);
    }
    if (!st) st = oc_graph_build(m);
    if (!st) st = oc_infer_static(m);
    /* After folding (weights computed by constant subgraphs are constants
     * then) and before packing (which then packs the final weights). */
    if (!st && (!options || options->optimize)) st = oc_optimize(m);
    if (!st) st = oc_pack_nodes(m, options ? options->threads : 0);
    if (!st) st = fill_info(m, m->n_inputs, m->inputs, &m->input_info);
    if (!st) st = fill_info(m, m->n_outputs, m->outputs, &m->output_info);
    /* An allocation the limit refused surfaced as out of memory: say why. */
    st = oc_budget_explain(&m->budget, st);
    if (st) {
        onnxc_model_free(m);
        return st;
    }
    *out_model = m;
    return NULL;
}

onnxc_status *onnxc_model_open_buffer(const void *data, size_t size,
                                      const onnxc_model_options *options, onnxc_model **out_model)
{
    if (!out_model) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_model_open_buffer: out_model is NULL");
    *out_model = NULL;
    if (!data && size) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_model_open_buffer: data is NULL");
    bool took_source;
    onnxc_status *st = open_model(data, size, NULL, NULL, options, false, &took_source, out_model);
    return oc_error_prefix(st, "loading model from memory");
}

/* The folder part of path ("." when there is none). */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

onnxc_status *onnxc_model_open_file(const char *path, const onnxc_model_options *options,
                                    onnxc_model **out_model)
{
    if (!out_model) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_model_open_file: out_model is NULL");
    *out_model = NULL;
    if (!path) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_model_open_file: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return oc_error(ONNXC_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return oc_error(ONNXC_ERR_IO, "'%s' is not a regular file", path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return oc_error(ONNXC_ERR_PARSE, "loading '%s': the file is empty", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return oc_error(ONNXC_ERR_LIMIT, "'%s' is too large to map", path);
    }
    size_t size = (size_t)sb.st_size;
    void *data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED) return oc_error(ONNXC_ERR_IO, "cannot map '%s': %s", path, strerror(errno));
    madvise(data, size, MADV_SEQUENTIAL);
    char *dir = folder_of(path);
    bool took_source = false;
    onnxc_status *st = dir ? open_model(data, size, dir, path, options, true, &took_source,
                                        out_model)
                           : oc_no_memory();
    free(dir);
    if (!took_source) munmap(data, size);
    return oc_error_prefix(st, "loading '%s'", path);
}

size_t onnxc_model_input_count(const onnxc_model *m) { return m ? (size_t)m->n_inputs : 0; }
size_t onnxc_model_output_count(const onnxc_model *m) { return m ? (size_t)m->n_outputs : 0; }

onnxc_status *onnxc_model_input(const onnxc_model *m, size_t index, onnxc_tensor_info *out)
{
    if (!m || !out) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_model_input: model or out is NULL");
    if (index >= (size_t)m->n_inputs)
        return oc_error(ONNXC_ERR_ARGUMENT, "input index %zu is out of range (the model has %d)",
                        index, m->n_inputs);
    *out = m->input_info[index];
    return NULL;
}

onnxc_status *onnxc_model_output(const onnxc_model *m, size_t index, onnxc_tensor_info *out)
{
    if (!m || !out) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_model_output: model or out is NULL");
    if (index >= (size_t)m->n_outputs)
        return oc_error(ONNXC_ERR_ARGUMENT, "output index %zu is out of range (the model has %d)",
                        index, m->n_outputs);
    *out = m->output_info[index];
    return NULL;
}
