#include "elementwise.h"

/* Wrapping for integers (see elementwise.h); plain + for floating point. */
#define ADD(T, W, x, y) ((T)((W)(x) + (W)(y)))
OC_DEFINE_BINARY_KERNELS(add, OC_NUMERIC_TYPES, ADD)

/* "x < 0" rather than "x > 0": NaN stays NaN, as in max(x, 0) of numpy and torch. */
#define RELU(T, W, x) ((x) < 0 ? (T)0 : (x))
OC_DEFINE_UNARY_KERNELS(relu, OC_SIGNED_TYPES, RELU)
