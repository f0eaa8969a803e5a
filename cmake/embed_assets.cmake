# Writes a C++ file that holds text files as string constants, so that a
# binary serves them without files beside it. Run as a script:
#   cmake -DOUT=assets.cpp -DNAMESPACE=ns -DASSETS="name=path;..." -P this
# Each asset becomes `extern const char name[]` in namespace NAMESPACE.
set(delimiter "caraway_asset")
set(text "// Generated from the files named below; edit those instead.\n")
string(APPEND text "namespace ${NAMESPACE} {\n")
foreach(asset IN LISTS ASSETS)
  string(FIND "${asset}" "=" eq)
  string(SUBSTRING "${asset}" 0 ${eq} name)
  math(EXPR from "${eq} + 1")
  string(SUBSTRING "${asset}" ${from} -1 path)
  file(READ "${path}" content)
  string(FIND "${content}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${path} holds the raw string's end, )${delimiter}\"")
  endif()
  get_filename_component(file_name "${path}" NAME)
  string(APPEND text "// ${file_name}\n"
         "extern const char ${name}[] = R\"${delimiter}(${content})${delimiter}\";\n")
endforeach()
string(APPEND text "} // namespace ${NAMESPACE}\n")
# Unchanged content keeps the old file, and so the old object file.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${text}")
