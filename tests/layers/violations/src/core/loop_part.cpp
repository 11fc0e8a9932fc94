// A fixture for check_layers.py: the core layer reaching up into net.
#include "net/transport_part.hpp"
