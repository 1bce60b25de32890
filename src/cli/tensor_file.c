/* Files for the CLI: whole-file reads and writes, folders, and tensors from
 * .pb or .npy files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/tensor_pb.h"

bool cli_is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Reads exactly size bytes, retrying short reads. */
static onnxc_status *read_all(int fd, const char *path, char *buf, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buf + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return oc_error(ONNXC_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        if (n == 0)
            return oc_error(ONNXC_ERR_IO, "cannot read '%s': it shrank while reading", path);
        done += (size_t)n;
    }
    return NULL;
}

onnxc_status *cli_read_file(const char *path, void **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return oc_error(ONNXC_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return oc_error(ONNXC_ERR_IO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)sb.st_size >= SIZE_MAX) {
        close(fd);
        return oc_error(ONNXC_ERR_LIMIT, "'%s' is too large", path);
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n ? n : 1);
    onnxc_status *st = buf ? read_all(fd, path, buf, n) : oc_no_memory();
    close(fd);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = n;
    return NULL;
}

onnxc_status *cli_write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return oc_error(ONNXC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    const char *p = data;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, p + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            onnxc_status *st =
                oc_error(ONNXC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
            close(fd);
            return st;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0)
        return oc_error(ONNXC_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    return NULL;
}

/* mkdir that accepts an existing folder. */
static onnxc_status *make_dir(const char *path)
{
    struct stat sb;
    if (mkdir(path, 0777) == 0) return NULL;
    if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return NULL;
    if (errno == EEXIST) return oc_error(ONNXC_ERR_IO, "'%s' exists and is not a folder", path);
    return oc_error(ONNXC_ERR_IO, "cannot create folder '%s': %s", path, strerror(errno));
}

onnxc_status *cli_make_dirs(const char *path)
{
    char *copy = strdup(path);
    if (!copy) return oc_no_memory();
    onnxc_status *st = NULL;
    /* Each '/' after the first character ends a parent to create first. */
    for (char *p = copy + 1; *p && !st; p++) {
        if (*p != '/') continue;
        *p = '\0';
        st = make_dir(copy);
        *p = '/';
    }
    if (!st) st = make_dir(copy);
    free(copy);
    return st;
}

onnxc_status *cli_tensor_load(const char *path, oc_tensor *t, char **name)
{
    void *data;
    size_t size;
    *name = NULL;
    memset(t, 0, sizeof *t);
    OC_TRY(cli_read_file(path, &data, &size));
    onnxc_status *st;
    if (cli_npy_magic(data, size))
        st = oc_error_prefix(cli_npy_decode(data, size, t), "'%s' (a .npy file)", path);
    else
        st = oc_error_prefix(oc_tensor_pb_decode(data, size, t, name),
                             "'%s' (read as an ONNX TensorProto; .npy files start with "
                             "\"\\x93NUMPY\")",
                             path);
    free(data);
    return st;
}

void cli_tensor_from_view(const onnxc_tensor_view *v, oc_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->dtype = v->dtype;
    t->rank = v->rank;
    for (int d = 0; d < v->rank && d < OC_MAX_RANK; d++) t->dims[d] = v->shape[d];
    t->count = v->count;
    t->nbytes = v->nbytes;
    t->data = (void *)v->data;
}
