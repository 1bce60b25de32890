/* Reference convolution: the definition, loop by loop. */
#include "conv.h"

void oc_conv_f32_ref(const oc_conv_geom *g, const float *x, const float *w, const float *bias,
                     float *y)
{
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t cin_g = g->in_channels / g->group, cout_g = g->out_channels / g->group;
    int64_t in_plane = dd->in * dh->in * dw->in;
    int64_t kernel_vol = dd->kernel * dh->kernel * dw->kernel;

    for (int64_t n = 0; n < g->batch; n++)
    for (int64_t oc = 0; oc < g->out_channels; oc++) {
        int64_t grp = oc / cout_g;
        for (int64_t od = 0; od < dd->out; od++)
        for (int64_t oh = 0; oh < dh->out; oh++)
        for (int64_t ow = 0; ow < dw->out; ow++) {
            double sum = bias ? bias[oc] : 0.0;
            for (int64_t ic = 0; ic < cin_g; ic++) {
                const float *xc = x + (n * g->in_channels + grp * cin_g + ic) * in_plane;
                const float *wc = w + (oc * cin_g + ic) * kernel_vol;
                for (int64_t kd = 0; kd < dd->kernel; kd++)
                for (int64_t kh = 0; kh < dh->kernel; kh++)
                for (int64_t kw = 0; kw < dw->kernel; kw++) {
                    int64_t id = od * dd->stride - dd->pad_begin + kd * dd->dilation;
                    int64_t ih = oh * dh->stride - dh->pad_begin + kh * dh->dilation;
                    int64_t iw = ow * dw->stride - dw->pad_begin + kw * dw->dilation;
                    if (id < 0 || id >= dd->in || ih < 0 || ih >= dh->in || iw < 0 ||
                        iw >= dw->in)
                        continue; /* padding contributes zero */
                    sum += (double)xc[(id * dh->in + ih) * dw->in + iw] *
                           wc[(kd * dh->kernel + kh) * dw->kernel + kw];
                }
            }
            y[(((n * g->out_channels + oc) * dd->out + od) * dh->out + oh) * dw->out + ow] =
                (float)sum;
        }
    }
}
