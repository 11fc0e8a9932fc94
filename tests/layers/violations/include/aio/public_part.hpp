// A fixture for check_layers.py: a public header that would give users a system header, and a
// core header that would give them the networking headers.
#pragma once
#include <sys/socket.h>
#include <vector>

#include "aio/protocols.hpp"
