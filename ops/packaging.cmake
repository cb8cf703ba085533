# Installation and Debian packages (CPack, issue 8). `cpack -G DEB` in a build directory makes
# four packages: mimamori-common (keys and wire-format tools, the documents), mimamori-sensor,
# mimamori-broker, mimamori-aggregator (with the SOC console, the statistics and the operators'
# tool). Each daemon runs as its own system user under a hardened systemd unit (ops/systemd);
# its settings are /etc/mimamori/NAME.ini, written here from the program's own --print-config
# (every setting, its default and what it does). docs/operations.md says how to use them.
include(GNUInstallDirs)

set(mm_etc ${CMAKE_BINARY_DIR}/etc)
set(mm_configs)
foreach(pair "sensor;sensor/mimamori-sensor" "broker;broker/mimamori-broker"
             "aggregator;aggregator/mimamori-aggregator" "console;aggregator/mimamori-console")
    list(GET pair 0 name)
    list(GET pair 1 bin)
    get_filename_component(target ${bin} NAME)
    add_custom_command(OUTPUT ${mm_etc}/${name}.ini
        COMMAND ${CMAKE_COMMAND} -E make_directory ${mm_etc}
        COMMAND $<TARGET_FILE:${target}> --print-config > ${mm_etc}/${name}.ini
        DEPENDS ${target}
        COMMENT "Writing the sample settings ${name}.ini" VERBATIM)
    list(APPEND mm_configs ${mm_etc}/${name}.ini)
endforeach()
add_custom_target(mm_sample_configs ALL DEPENDS ${mm_configs})

# Programs.
install(TARGETS mimamori-keygen mimamori-msg RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT common)
install(TARGETS mimamori-sensor RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sensor)
install(TARGETS mimamori-broker RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT broker)
install(TARGETS mimamori-aggregator mimamori mimamori-console mimamori-stats
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT aggregator)
# Units, settings, data.
set(mm_units ${PROJECT_SOURCE_DIR}/ops/systemd)
install(FILES ${mm_units}/mimamori-sensor.service DESTINATION lib/systemd/system COMPONENT sensor)
install(FILES ${mm_units}/mimamori-broker.service DESTINATION lib/systemd/system COMPONENT broker)
install(FILES ${mm_units}/mimamori-aggregator.service ${mm_units}/mimamori-console.service
              ${mm_units}/mimamori-stats.service
        DESTINATION lib/systemd/system COMPONENT aggregator)
install(FILES ${mm_etc}/sensor.ini DESTINATION /etc/mimamori COMPONENT sensor)
install(FILES ${mm_etc}/broker.ini DESTINATION /etc/mimamori COMPONENT broker)
install(FILES ${mm_etc}/aggregator.ini ${mm_etc}/console.ini DESTINATION /etc/mimamori
        COMPONENT aggregator)
install(FILES ${PROJECT_SOURCE_DIR}/ops/debian/mimamori-stats.default DESTINATION /etc/default
        RENAME mimamori-stats COMPONENT aggregator)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/aggregator/allowlists/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/mimamori/allowlists COMPONENT aggregator)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/operations.md
              ${PROJECT_SOURCE_DIR}/docs/architecture.md ${PROJECT_SOURCE_DIR}/docs/mesh.md
              ${PROJECT_SOURCE_DIR}/docs/registry.md ${PROJECT_SOURCE_DIR}/docs/statistics.md
              ${PROJECT_SOURCE_DIR}/docs/sensor.md ${PROJECT_SOURCE_DIR}/docs/detection.md
              ${PROJECT_SOURCE_DIR}/docs/correlation.md ${PROJECT_SOURCE_DIR}/docs/protocol.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT common)

# Maintainer scripts and conffiles, one set per daemon package (ops/debian/*.in).
function(mm_deb_scripts comp users units state conffiles)
    set(dir ${CMAKE_BINARY_DIR}/debian/${comp})
    set(PKG mimamori-${comp})
    string(REPLACE ";" " " USERS "${users}")
    string(REPLACE ";" " " UNITS "${units}")
    string(REPLACE ";" " " STATE "${state}")
    foreach(script postinst prerm postrm)
        configure_file(${PROJECT_SOURCE_DIR}/ops/debian/${script}.in ${dir}/${script} @ONLY
                       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                       GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    endforeach()
    string(REPLACE ";" "\n" lines "${conffiles}")
    file(WRITE ${dir}/conffiles "${lines}\n")
    string(TOUPPER ${comp} up)
    set(CPACK_DEBIAN_${up}_PACKAGE_CONTROL_EXTRA
        "${dir}/postinst;${dir}/prerm;${dir}/postrm;${dir}/conffiles" PARENT_SCOPE)
endfunction()
mm_deb_scripts(sensor "mimamori-sensor" "mimamori-sensor.service" "spool"
               "/etc/mimamori/sensor.ini")
mm_deb_scripts(broker "mimamori-broker" "mimamori-broker.service" "broker"
               "/etc/mimamori/broker.ini")
mm_deb_scripts(aggregator "mimamori-aggregator;mimamori-console;mimamori-stats"
               "mimamori-aggregator.service;mimamori-console.service;mimamori-stats.service"
               "aggregator;stats" "/etc/mimamori/aggregator.ini;/etc/mimamori/console.ini;/etc/default/mimamori-stats")

set(CPACK_PACKAGE_NAME mimamori)
set(CPACK_PACKAGE_VENDOR "Mimamori")
set(CPACK_PACKAGE_CONTACT "Mimamori maintainers <maintainers@mimamori.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Monitoring mesh for small companies' cybersecurity")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL common sensor broker aggregator)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_COMMON_PACKAGE_NAME mimamori-common)
set(CPACK_DEBIAN_SENSOR_PACKAGE_NAME mimamori-sensor)
set(CPACK_DEBIAN_BROKER_PACKAGE_NAME mimamori-broker)
set(CPACK_DEBIAN_AGGREGATOR_PACKAGE_NAME mimamori-aggregator)
set(CPACK_DEBIAN_COMMON_DESCRIPTION "Mimamori: keys (mimamori-keygen), the wire-format tool, the documents")
set(CPACK_DEBIAN_SENSOR_DESCRIPTION "Mimamori network sensor for a small company (libpcap)")
set(CPACK_DEBIAN_BROKER_DESCRIPTION "Mimamori regional broker: authenticates sensors, stores and forwards")
set(CPACK_DEBIAN_AGGREGATOR_DESCRIPTION "Mimamori centre: correlation, lateral warnings, SOC console, statistics")
# The daemons need the common tools (keys) and passwd's useradd for their users.
set(CPACK_DEBIAN_SENSOR_PACKAGE_DEPENDS "mimamori-common (= ${PROJECT_VERSION}), passwd")
set(CPACK_DEBIAN_BROKER_PACKAGE_DEPENDS "mimamori-common (= ${PROJECT_VERSION}), passwd")
set(CPACK_DEBIAN_AGGREGATOR_PACKAGE_DEPENDS "mimamori-common (= ${PROJECT_VERSION}), passwd, publicsuffix")
set(CPACK_DEBIAN_SENSOR_PACKAGE_RECOMMENDS "nftables")
include(CPack)
