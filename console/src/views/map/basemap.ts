// An offline basemap: Natural Earth's 1:50m countries from the world-atlas package, bundled as an
// asset and drawn as vector polygons on a canvas. No tile server, no CDN: the map works on a
// closed network, and the console never asks another host for anything.
import L from 'leaflet'
import { feature } from 'topojson-client'
import type { GeometryCollection, Topology } from 'topojson-specification'
import countriesUrl from 'world-atlas/countries-50m.json?url'

const LAND_STYLE: L.PathOptions = { color: '#b8b2a3', weight: 0.6, fillColor: '#f6f3ea', fillOpacity: 1, interactive: false }

export const BASEMAP_ATTRIBUTION = 'Basemap: Natural Earth (public domain) via world-atlas'

/** Adds the countries layer under everything else; resolves once drawn. */
export async function addBasemap(map: L.Map): Promise<L.Layer> {
  const response = await fetch(countriesUrl)
  if (!response.ok) throw new Error(`basemap: ${response.status}`)
  const topology = await response.json() as Topology<{ countries: GeometryCollection }>
  const countries = feature(topology, topology.objects.countries)
  map.createPane('basemap')
  const pane = map.getPane('basemap')
  if (pane) pane.style.zIndex = '150' // below overlays (400) and markers (600)
  // one canvas for ~240 countries keeps panning smooth; the SVG renderer would make a node per
  // polygon. GeoJSON hands its options to the layers it creates, renderer included (the typings
  // only know the path options by that route).
  const options: L.GeoJSONOptions & L.PathOptions = { style: LAND_STYLE, pane: 'basemap', renderer: L.canvas({ pane: 'basemap', padding: 0.5 }) }
  return L.geoJSON(countries, options).addTo(map)
}
