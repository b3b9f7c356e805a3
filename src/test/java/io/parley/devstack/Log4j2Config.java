package io.parley.devstack;

/**
 * The log4j2 configuration of the Kafka broker: INFO to stdout, which the launcher streams into the
 * service's log file (one writer, and JVM crash output lands in the same file).
 */
final class Log4j2Config {

  private Log4j2Config() {}

  static String toStdout() {
    return """
    <?xml version="1.0" encoding="UTF-8"?>
    <Configuration status="WARN">
      <Appenders>
        <Console name="stdout" target="SYSTEM_OUT">
          <PatternLayout pattern="%d{ISO8601} %-5p [%t] %c{1.}: %m%n"/>
        </Console>
      </Appenders>
      <Loggers>
        <!-- The controller and raft layers are chatty at INFO during startup. -->
        <Logger name="org.apache.kafka.raft" level="WARN"/>
        <Logger name="kafka.log" level="WARN"/>
        <Logger name="org.apache.kafka.storage" level="WARN"/>
        <Root level="INFO">
          <AppenderRef ref="stdout"/>
        </Root>
      </Loggers>
    </Configuration>
    """;
  }
}
