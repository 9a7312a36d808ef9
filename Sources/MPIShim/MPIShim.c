// Open MPI through dlopen (include/MPIShim.h says why), so without its headers: the few
// functions used here and the handles behind MPI_COMM_WORLD and MPI_BYTE, which in Open
// MPI's ABI are the addresses of the exported objects `ompi_mpi_comm_world` and
// `ompi_mpi_byte` (docs/scale-out.md, "Training across processes").
#include "MPIShim.h"

#include <dlfcn.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

typedef void *MPI_Comm, *MPI_Datatype, *MPI_Request;

static struct {
  int (*init)(int *, char ***);
  int (*finalize)(void);
  int (*comm_rank)(MPI_Comm, int *);
  int (*comm_size)(MPI_Comm, int *);
  int (*ialltoall)(const void *, int, MPI_Datatype, void *, int, MPI_Datatype, MPI_Comm,
                   MPI_Request *);
  int (*iallgather)(const void *, int, MPI_Datatype, void *, int, MPI_Datatype, MPI_Comm,
                    MPI_Request *);
  int (*iallgatherv)(const void *, int, MPI_Datatype, void *, const int *, const int *,
                     MPI_Datatype, MPI_Comm, MPI_Request *);
  int (*ibcast)(void *, int, MPI_Datatype, int, MPI_Comm, MPI_Request *);
  int (*test)(MPI_Request *, int *, void *);
  MPI_Comm world;
  MPI_Datatype byte;
} mpi;

int moonlab_mpi_init(int *rank, int *size, char *error, size_t error_size) {
  // RTLD_GLOBAL: Open MPI's plugins, loaded by MPI_Init, resolve their symbols in libmpi.
  void *lib = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
  if (!lib) {
    snprintf(error, error_size,
             "this run was started under MPI but Open MPI's library (libmpi.so.40) is not "
             "installed (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi3): %s",
             dlerror());
    return -1;
  }
  struct {
    const char *name;
    void **slot;
  } symbols[] = {
      {"MPI_Init", (void **)&mpi.init},
      {"MPI_Finalize", (void **)&mpi.finalize},
      {"MPI_Comm_rank", (void **)&mpi.comm_rank},
      {"MPI_Comm_size", (void **)&mpi.comm_size},
      {"MPI_Ialltoall", (void **)&mpi.ialltoall},
      {"MPI_Iallgather", (void **)&mpi.iallgather},
      {"MPI_Iallgatherv", (void **)&mpi.iallgatherv},
      {"MPI_Ibcast", (void **)&mpi.ibcast},
      {"MPI_Test", (void **)&mpi.test},
      {"ompi_mpi_comm_world", &mpi.world},
      {"ompi_mpi_byte", &mpi.byte},
  };
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
    *symbols[i].slot = dlsym(lib, symbols[i].name);
    if (!*symbols[i].slot) {
      snprintf(error, error_size,
               "libmpi.so.40 has no '%s': Moonlab needs Open MPI 4 or later, not another MPI",
               symbols[i].name);
      return -1;
    }
  }
  if (mpi.init(NULL, NULL) != 0 || mpi.comm_rank(mpi.world, rank) != 0 ||
      mpi.comm_size(mpi.world, size) != 0) {
    snprintf(error, error_size, "MPI_Init failed (Open MPI's messages above say why)");
    return -1;
  }
  return 0;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Polls `request` to its end. sched_yield between polls: a waiting rank leaves the core
// to the kernels' other threads.
static int wait_for(MPI_Request request, int started, double timeout,
                    moonlab_mpi_interrupted interrupted) {
  if (started != 0) return -1;
  double deadline = timeout > 0 ? now() + timeout : 0;
  for (;;) {
    int done = 0;
    if (mpi.test(&request, &done, NULL) != 0) return -1;
    if (done) return 0;
    if (interrupted && interrupted()) return 1;
    if (deadline > 0 && now() > deadline) return 2;
    sched_yield();
  }
}

int moonlab_mpi_alltoall(const void *send, void *recv, size_t bytes, double timeout,
                         moonlab_mpi_interrupted interrupted) {
  if (bytes > INT_MAX) return -1;
  MPI_Request r;
  int s = mpi.ialltoall(send, (int)bytes, mpi.byte, recv, (int)bytes, mpi.byte, mpi.world, &r);
  return wait_for(r, s, timeout, interrupted);
}

int moonlab_mpi_allgather(const void *send, void *recv, size_t bytes, double timeout,
                          moonlab_mpi_interrupted interrupted) {
  if (bytes > INT_MAX) return -1;
  MPI_Request r;
  int s = mpi.iallgather(send, (int)bytes, mpi.byte, recv, (int)bytes, mpi.byte, mpi.world, &r);
  return wait_for(r, s, timeout, interrupted);
}

int moonlab_mpi_allgatherv(const void *send, int bytes, void *recv, const int *counts,
                           const int *offsets, double timeout,
                           moonlab_mpi_interrupted interrupted) {
  MPI_Request r;
  int s = mpi.iallgatherv(send, bytes, mpi.byte, recv, counts, offsets, mpi.byte, mpi.world, &r);
  return wait_for(r, s, timeout, interrupted);
}

int moonlab_mpi_bcast(void *buffer, size_t bytes, int root, double timeout,
                      moonlab_mpi_interrupted interrupted) {
  if (bytes > INT_MAX) return -1;
  MPI_Request r;
  int s = mpi.ibcast(buffer, (int)bytes, mpi.byte, root, mpi.world, &r);
  return wait_for(r, s, timeout, interrupted);
}

void moonlab_mpi_finalize(void) {
  if (mpi.finalize) mpi.finalize();
}
