#pragma once

/// The caraway public API: tasks, actors and objects on a cluster.

#include "caraway/actor.hpp"
#include "caraway/api.hpp"
#include "caraway/config.hpp"
#include "caraway/error.hpp"
#include "caraway/metrics.hpp"
#include "caraway/object_ref.hpp"
#include "caraway/placement_group.hpp"
#include "caraway/progress.hpp"
#include "caraway/scheduling.hpp"
#include "caraway/task.hpp"
