/* Cache-line round trip between two CPUs: two threads, each pinned to one
 * of the first two CPUs this process may run on, hand a counter back and
 * forth. On a shared cloud host the figure tells where the scheduler has
 * put the virtual CPUs: about 100-150 ns when they share a core complex
 * (and its L3), 400-500 ns when they do not; then data one thread writes
 * and another reads crosses between the complexes, and a multi-threaded
 * run that shares scratch between threads slows down (see bench/compare).
 *
 *   corelat [--rounds N]    prints "corelat: round_trip_ns=<float> cpus=<a>,<b>"
 *
 * The best of N (default 5) rounds of 20000 round trips. Exit status 2 when
 * fewer than two CPUs are available. Linux only (sched_setaffinity). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TRIPS = 20000 };

static _Alignas(64) atomic_long turn;
static int cpu_b;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Answers TRIPS odd values with the next even one. */
static void *answer(void *arg)
{
    (void)arg;
    pin(cpu_b); /* unpinned, it still answers */
    for (long i = 0; i < TRIPS; i++) {
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 1) {
        }
        atomic_store_explicit(&turn, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: corelat [--rounds N]\n");
            return 2;
        }
    }
    if (rounds < 1) rounds = 1;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 2;
    int cpus[2], found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
    if (found < 2) {
        fprintf(stderr, "corelat: fewer than two CPUs\n");
        return 2;
    }
    cpu_b = cpus[1];
    if (pin(cpus[0]) != 0) return 2;
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        atomic_store(&turn, 0);
        pthread_t t;
        if (pthread_create(&t, NULL, answer, NULL) != 0) return 2;
        double t0 = now();
        for (long i = 0; i < TRIPS; i++) {
            atomic_store_explicit(&turn, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 2) {
            }
        }
        double sec = now() - t0;
        pthread_join(t, NULL);
        if (sec < best) best = sec;
    }
    printf("corelat: round_trip_ns=%.0f cpus=%d,%d\n", best / TRIPS * 1e9, cpus[0], cpus[1]);
    return 0;
}
