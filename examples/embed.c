/* Embedding onnxc: load a model, bind its first input, run, read outputs.
 * Build: cc embed.c $(pkg-config --cflags --libs onnxc)   Run: ./embed model.onnx */
#include <onnxc.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(onnxc_status *st)
{
    fprintf(stderr, "embed: %s\n", onnxc_status_message(st));
    onnxc_status_free(st);
    return 1;
}

int main(int argc, char **argv)
{
    onnxc_model *model = NULL;
    onnxc_session *session = NULL;
    onnxc_status *st;
    if (argc != 2) return fprintf(stderr, "usage: embed MODEL.onnx\n"), 2;
    if ((st = onnxc_model_open_file(argv[1], NULL, &model))) return fail(st);

    onnxc_tensor_info in;
    if ((st = onnxc_model_input(model, 0, &in))) return fail(st);
    int64_t shape[8];
    size_t count = 1;
    for (int i = 0; i < in.rank && i < 8; i++) { /* symbolic dims: batch of 1 */
        shape[i] = in.shape[i] < 0 ? 1 : in.shape[i];
        count *= (size_t)shape[i];
    }
    float *data = malloc(count * sizeof *data);
    for (size_t i = 0; data && i < count; i++) data[i] = (float)(i % 255) / 255.0f;

    if ((st = onnxc_session_create(model, NULL, &session)) ||
        (st = onnxc_session_bind(session, in.name, ONNXC_DTYPE_FLOAT, shape, in.rank, data,
                                 count * sizeof *data)) ||
        (st = onnxc_session_run(session)))
        return fail(st);

    for (size_t k = 0; k < onnxc_model_output_count(model); k++) {
        onnxc_tensor_view out;
        if ((st = onnxc_session_output(session, k, &out))) return fail(st);
        const float *y = out.data;
        size_t best = 0;
        for (size_t i = 1; i < out.count; i++)
            if (y[i] > y[best]) best = i;
        printf("output '%s': %zu values, largest at %zu (%g)\n", out.name, out.count, best,
               out.count ? y[best] : 0.0);
    }
    onnxc_session_free(session);
    onnxc_model_free(model);
    free(data);
    return 0;
}
