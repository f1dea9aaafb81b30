package cli

import (
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// maxRasterSpikes bounds the spikes drawn in the raster of mec snn run
// --svg (each is an SVG element); the title says when some were left out.
const maxRasterSpikes = 100_000

// plotSNN draws the spike raster, the population rates and (when sampled)
// the membrane potentials in stacked panels sharing the time axis (ms),
// and a histogram of each projection's final weights (monitors.weights).
func plotSNN(res *snnResult, file string) error {
	var plots [][]*plot.Plot

	raster := plot.New()
	raster.X.Label.Text = "time (ms)"
	raster.Y.Label.Text = "neuron"
	total, drawn := 0, 0
	for i, m := range res.rec.SpikeMonitors() {
		total += m.Len()
		n := min(m.Len(), maxRasterSpikes-drawn)
		if n <= 0 {
			continue
		}
		pts := make(plotter.XYs, n)
		for k := range n {
			pts[k] = plotter.XY{X: m.Time(k), Y: float64(m.Index[k])}
		}
		drawn += n
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.GlyphStyle.Radius = vg.Points(0.6)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Color = plotColor(i)
		raster.Add(sc)
	}
	raster.Title.Text = fmt.Sprintf("spikes (%d)", total)
	if drawn < total {
		raster.Title.Text = fmt.Sprintf("spikes (first %d of %d drawn)", drawn, total)
	}
	plots = append(plots, []*plot.Plot{raster})

	rate := plot.New()
	rate.Title.Text = fmt.Sprintf("population rate (Hz, %g ms bins)", res.sum.Rate.BinMs)
	rate.X.Label.Text = "time (ms)"
	for i, hz := range res.sum.Rate.Hz {
		pts := make(plotter.XYs, len(hz))
		for k, y := range hz {
			pts[k] = plotter.XY{X: res.sum.Rate.TMs[k], Y: y}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotColor(i)
		rate.Add(l)
		rate.Legend.Add(res.sum.Populations[i].Name, l)
	}
	rate.Legend.Top = true
	plots = append(plots, []*plot.Plot{rate})

	for _, g := range []struct {
		title string
		v     bool
	}{{"membrane potential (mV)", true}, {"model state (u; w in nA)", false}} {
		vp := plot.New()
		vp.Title.Text = g.title
		vp.X.Label.Text = "time (ms)"
		c := 0
		for _, tr := range res.sum.State {
			if (tr.Var == "v") != g.v {
				continue
			}
			for j, vals := range tr.Values {
				pts := make(plotter.XYs, len(vals))
				for k, y := range vals {
					pts[k] = plotter.XY{X: tr.TMs[k], Y: y}
				}
				l, err := plotter.NewLine(pts)
				if err != nil {
					return err
				}
				l.Color = plotColor(c)
				c++
				vp.Add(l)
				label := fmt.Sprintf("%s[%d]", tr.Population, tr.Neurons[j])
				if !g.v {
					label = tr.Var + " " + label
				}
				vp.Legend.Add(label, l)
			}
		}
		if c == 0 {
			continue
		}
		vp.Legend.Top = true
		plots = append(plots, []*plot.Plot{vp})
	}

	for i, r := range res.weights {
		if len(r.Values) == 0 {
			continue
		}
		hp := plot.New()
		hp.Title.Text = fmt.Sprintf("final weights of projection %d (%s → %s)", r.Projection, r.From, r.To)
		hp.X.Label.Text = "weight"
		hp.Y.Label.Text = "synapses"
		hist, err := plotter.NewHist(plotter.Values(r.Values), 20)
		if err != nil {
			return err
		}
		hist.FillColor = plotColor(i)
		hp.Add(hist)
		plots = append(plots, []*plot.Plot{hp})
	}

	w, h := 7*vg.Inch, vg.Length(3*len(plots))*vg.Inch
	canvas := vgsvg.New(w, h)
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(6), PadTop: vg.Points(4), PadBottom: vg.Points(4)}
	canv := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canv[i][0])
	}
	fh, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
