# `cmake --install` layout (the .deb is this layout under /usr, cmake/Packaging.cmake):
#   bin/segd                                   the daemon (daemon/CMakeLists.txt)
#   share/segd/examples/{config,rules}.yaml    the examples
#   share/doc/segd/{README,deploy}.md
#   <sysconfdir>/segd/{segd,rules}.yaml        configuration the service starts with
#                                              (/etc/segd when the prefix is /usr)
#   lib/systemd/system/segd.service            the hardened unit (deploy/systemd/)
#   lib/sysusers.d/segd.conf, lib/tmpfiles.d/segd.conf   its user and data folder
include(GNUInstallDirs)

install(FILES examples/config.yaml examples/rules.yaml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/segd/examples)
install(FILES README.md docs/deploy.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES deploy/config/segd.yaml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/segd)
install(FILES examples/rules.yaml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/segd)

# The unit names /usr/bin and /etc/segd; other prefixes get their own paths.
file(READ ${CMAKE_SOURCE_DIR}/deploy/systemd/segd.service segd_unit)
string(REPLACE "/usr/bin/segd" "${CMAKE_INSTALL_FULL_BINDIR}/segd" segd_unit "${segd_unit}")
string(REPLACE "/etc/segd/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/segd/" segd_unit "${segd_unit}")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/deploy/segd.service CONTENT "${segd_unit}")
install(FILES ${CMAKE_BINARY_DIR}/deploy/segd.service
        DESTINATION lib/systemd/system)
install(FILES deploy/systemd/segd.sysusers DESTINATION lib/sysusers.d RENAME segd.conf)
install(FILES deploy/systemd/segd.tmpfiles DESTINATION lib/tmpfiles.d RENAME segd.conf)
