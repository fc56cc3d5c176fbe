// Kernel constants newer than some build hosts' headers: the one place they are defined
// when the headers lack them.
#pragma once

#include <linux/close_range.h>
#include <sched.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
