# caraway_add_app(<name> SOURCES <files...> [LIBRARIES <targets...>])
#
# Builds the executable <name> and, from the same sources, the shared library
# <name>_tasks that node daemons load to run the app's tasks and actors. The
# executable exports its symbols so that errors can name unregistered
# functions.
function(caraway_add_app name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "caraway_add_app(${name}) needs SOURCES")
  endif()
  set(_caraway caraway::caraway)
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${_caraway} ${ARG_LIBRARIES})
  set_target_properties(${name} PROPERTIES ENABLE_EXPORTS ON)
  add_library(${name}_tasks SHARED ${ARG_SOURCES})
  target_link_libraries(${name}_tasks PRIVATE ${_caraway} ${ARG_LIBRARIES})
  # The library's main() is never called; nodes only need its registrations.
  target_compile_definitions(${name}_tasks PRIVATE CARAWAY_TASK_LIBRARY=1)
  # Once installed, both still find caraway in whatever prefix they were
  # built against, without LD_LIBRARY_PATH.
  set_target_properties(${name} ${name}_tasks
                        PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
endfunction()
