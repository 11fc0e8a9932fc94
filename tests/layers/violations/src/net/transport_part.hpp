// A fixture for check_layers.py: net may include core (below it).
#pragma once
#include "core/loop_part.hpp"
