package io.parley.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The plot of docs/benchmarks.md: 1:1 ack latency (p50 and p99) against the send rate, Parley and
 * the relay, both axes logarithmic, with the 10 ms and 50 ms lines the rate sweep looks for. Drawn
 * from the steps of a run, or from its CSV: {@code LatencyPlot results.csv plot.png}.
 */
final class LatencyPlot {

  private static final int WIDTH = 900;
  private static final int HEIGHT = 560;

  private LatencyPlot() {}

  public static void main(String[] args) throws IOException {
    List<Step> steps =
        Files.readAllLines(Path.of(args[0])).stream().skip(1).map(Step::parse).toList();
    write(steps, Path.of(args[1]));
  }

  static void write(List<Step> steps, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYSeriesCollection data = new XYSeriesCollection();
    for (String target : List.of("parley", "relay")) {
      data.addSeries(series(steps, target, "p50", Step::ackP50));
      data.addSeries(series(steps, target, "p99", Step::ackP99));
    }
    LogarithmicAxis rate = axis("1:1 sends per second (total)");
    LogarithmicAxis latency = axis("ack latency, ms");
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true);
    Color[] colors = {
      new Color(0xC0392B), new Color(0xE67E22), new Color(0x2471A3), new Color(0x5DADE2)
    };
    for (int i = 0; i < colors.length; i++) {
      lines.setSeriesPaint(i, colors[i]);
      lines.setSeriesStroke(i, new BasicStroke(i % 2 == 1 ? 2.5f : 1.5f));
    }
    XYPlot plot = new XYPlot(data, rate, latency, lines);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.addRangeMarker(threshold(10));
    plot.addRangeMarker(threshold(50));
    JFreeChart chart =
        new JFreeChart(
            "Ack latency against rate, one 2-core box", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    Files.createDirectories(png.toAbsolutePath().getParent());
    ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
  }

  private static XYSeries series(
      List<Step> steps,
      String target,
      String percentile,
      java.util.function.ToDoubleFunction<Step> value) {
    XYSeries series = new XYSeries(target + " ack " + percentile);
    steps.stream()
        .filter(step -> step.scenario().equals("1:1") && step.target().equals(target))
        .filter(step -> value.applyAsDouble(step) > 0)
        .forEach(step -> series.add(step.rate(), value.applyAsDouble(step)));
    return series;
  }

  /** Log scale with plain labels (1, 2, 5, 10, …), not powers of ten. */
  private static LogarithmicAxis axis(String label) {
    LogarithmicAxis axis = new LogarithmicAxis(label);
    axis.setExpTickLabelsFlag(false);
    axis.setLog10TickLabelsFlag(false);
    axis.setStrictValuesFlag(false);
    return axis;
  }

  private static ValueMarker threshold(double millis) {
    ValueMarker marker =
        new ValueMarker(
            millis,
            Color.GRAY,
            new BasicStroke(
                1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
    marker.setLabel(String.format("%.0f ms", millis));
    marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
    marker.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
    return marker;
  }
}
