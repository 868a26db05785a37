// The shared-memory transport in one include: the segment (supervisor and everyone who
// attaches), the replica port and the client port. See docs/shm.md.
#pragma once

#include "shm/client_port.h"
#include "shm/endpoint.h"
#include "shm/error.h"
#include "shm/limits.h"
#include "shm/port_types.h"
#include "shm/replica_port.h"
#include "shm/segment.h"
