// A fixture for check_layers.py: a public header that would give users a system header.
#pragma once
#include <sys/socket.h>
#include <vector>
