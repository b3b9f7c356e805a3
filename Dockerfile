# The node's image: `mvn -B -DskipTests package && docker build -t <registry>/parley:<version> .`
# The same image runs the node (default) and the schema migration Job (k8s/migrate/).
FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 parley
COPY target/lib/ /app/lib/
COPY target/parley-*.jar /app/lib/
USER 10001
# The heap follows the container's memory limit (JAVA_TOOL_OPTIONS in k8s/deployment.yaml).
ENTRYPOINT ["java", "-cp", "/app/lib/*", "io.parley.app.Main"]
