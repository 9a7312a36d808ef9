// Open MPI for data-parallel training (docs/scale-out.md, "Training across processes"),
// loaded with dlopen when a run starts under mpirun: the binary does not link libmpi, so
// it starts and runs as before where Open MPI is not installed, and Swift needs none of
// mpi.h's macros.
#ifndef MOONLAB_MPISHIM_H
#define MOONLAB_MPISHIM_H

#include <stddef.h>

// Loads libmpi.so.40 (Open MPI 4 and 5), calls MPI_Init and fills `rank` and `size`.
// Returns 0, or -1 with a one-line reason in `error`.
int moonlab_mpi_init(int *rank, int *size, char *error, size_t error_size);

// Collectives over MPI_COMM_WORLD on bytes. Each waits for its peers by polling, so that
// a signal (`interrupted` returns non-zero) or `timeout` seconds (0 = none) end the wait:
// returns 0 done, 1 interrupted, 2 timed out, -1 an MPI error or a size over 2 GiB.
typedef int (*moonlab_mpi_interrupted)(void);

// Block `rank` of `send` (`bytes` each) goes to rank `rank`; `recv` gets every rank's block.
int moonlab_mpi_alltoall(const void *send, void *recv, size_t bytes, double timeout,
                         moonlab_mpi_interrupted interrupted);
// Every rank's `bytes` of `send`, in rank order, into `recv`.
int moonlab_mpi_allgather(const void *send, void *recv, size_t bytes, double timeout,
                          moonlab_mpi_interrupted interrupted);
// Every rank's `bytes` of `send` into `recv`: rank r's at `offsets[r]`, `counts[r]` long.
int moonlab_mpi_allgatherv(const void *send, int bytes, void *recv, const int *counts,
                           const int *offsets, double timeout,
                           moonlab_mpi_interrupted interrupted);
// Rank `root`'s `bytes` of `buffer` into every rank's `buffer`.
int moonlab_mpi_bcast(void *buffer, size_t bytes, int root, double timeout,
                      moonlab_mpi_interrupted interrupted);

// MPI_Finalize, after the last collective of a run that ended well.
void moonlab_mpi_finalize(void);

#endif
