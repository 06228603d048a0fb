// ECharts, with only the parts the dashboard uses (keeps the bundle small).
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([HeatmapChart, LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);
export { echarts };
