// Waypoints of the shipped routes: real cities and highway junctions along well-known freight
// corridors, from memory (no map service here), accurate to a few hundred metres. The generator
// curves and densifies them into road-like lines; stops sit exactly on waypoints.
import type { StopType } from '../routes.js'

/** [lat, lon] or [lat, lon, stop name, stop type, planned dwell seconds] */
export type Waypoint = [number, number] | [number, number, string, StopType, number]

export interface RouteSource {
  name: string
  description: string
  /** vertex spacing and wander of the generated line, metres */
  spacingM: number
  wanderM: number
  maxSpeedKmh?: number
  waypoints: Waypoint[]
}

export const ROUTE_SOURCES: RouteSource[] = [
  {
    name: 'us-i5-seattle-portland', description: 'I-5 southbound, Seattle SODO to Portland, via Tacoma and Centralia (~280 km)', spacingM: 700, wanderM: 250,
    waypoints: [
      [47.5790, -122.3340, 'Seattle SODO warehouse', 'pickup', 2700], [47.5480, -122.3190], [47.5150, -122.2950], [47.4630, -122.2620],
      [47.3990, -122.2960], [47.3100, -122.3100], [47.2390, -122.3570], [47.2370, -122.4270, 'Tacoma Dome DC', 'delivery', 1800],
      [47.2130, -122.4670], [47.1650, -122.5090], [47.0970, -122.6300], [47.0640, -122.7120], [47.0420, -122.8170], [47.0300, -122.8950],
      [46.9960, -122.9150], [46.9000, -122.9500], [46.7900, -123.0080], [46.7200, -122.9700, 'Centralia cross-dock', 'delivery', 1500],
      [46.6600, -122.9650], [46.5740, -122.9080], [46.4900, -122.8800], [46.4250, -122.8600], [46.2750, -122.9050, 'Castle Rock rest area', 'waypoint', 900],
      [46.1450, -122.8990], [46.0080, -122.8450], [45.9050, -122.7450], [45.8150, -122.7300], [45.6700, -122.6650], [45.6200, -122.6750],
      [45.5750, -122.6850], [45.5300, -122.6670], [45.5050, -122.6620, 'Portland Central Eastside', 'delivery', 2400],
    ],
  },
  {
    name: 'de-a1-hamburg-cologne', description: 'A1 Hansalinie, Hamburg Billbrook to Köln Eifeltor, via Bremen, Osnabrück, Dortmund (~430 km)', spacingM: 800, wanderM: 300,
    waypoints: [
      [53.5350, 10.0850, 'Hamburg Billbrook hub', 'pickup', 2700], [53.4950, 10.0500], [53.4600, 10.0100], [53.4050, 9.9500], [53.3300, 9.8700],
      [53.2800, 9.5100], [53.2000, 9.2800], [53.1100, 9.0500], [53.0500, 8.8900, 'Bremen-Arsten DC', 'delivery', 1800], [53.0300, 8.6500],
      [52.9000, 8.4300], [52.8200, 8.1500], [52.6700, 8.2000], [52.5900, 8.1200], [52.4900, 8.0700], [52.3200, 8.0600, 'Osnabrück-Nord', 'delivery', 1500],
      [52.2700, 7.9200], [52.1700, 7.8400], [52.0200, 7.6700], [51.9200, 7.6400, 'Münster-Süd services', 'waypoint', 2700], [51.7900, 7.6300],
      [51.6950, 7.6000], [51.6100, 7.6300], [51.5300, 7.5900], [51.4700, 7.5500, 'Dortmund Süd', 'delivery', 1500], [51.4200, 7.5200],
      [51.3700, 7.4300], [51.2900, 7.2500], [51.2000, 7.2200], [51.1400, 7.2000], [51.0500, 7.0200], [50.9900, 6.9700], [50.9500, 6.9000],
      [50.9100, 6.9200, 'Köln Eifeltor terminal', 'delivery', 2400],
    ],
  },
  {
    name: 'uk-m1-london-leeds', description: 'M1 northbound, Park Royal to Leeds Stourton, via Milton Keynes, East Midlands, Sheffield (~320 km)', spacingM: 700, wanderM: 250,
    waypoints: [
      [51.5300, -0.2800, 'London Park Royal', 'pickup', 2700], [51.5700, -0.2350], [51.6350, -0.2650], [51.7200, -0.3600], [51.8650, -0.4100],
      [51.9500, -0.5200], [52.0550, -0.7050, 'Milton Keynes Magna Park', 'delivery', 1800], [52.0850, -0.7450], [52.2000, -0.8900], [52.3050, -1.1200],
      [52.3650, -1.1700], [52.4500, -1.2050], [52.6030, -1.2050], [52.6250, -1.2150, 'Leicester Forest East services', 'waypoint', 1200],
      [52.7500, -1.2700], [52.8250, -1.2800, 'East Midlands Gateway', 'delivery', 1800], [52.9600, -1.2650], [52.9950, -1.2500], [53.1800, -1.3350],
      [53.3900, -1.3800], [53.4150, -1.4100, 'Sheffield Meadowhall', 'delivery', 1500], [53.5400, -1.5200], [53.6800, -1.5450],
      [53.7650, -1.5200, 'Leeds Stourton', 'delivery', 2400],
    ],
  },
  {
    name: 'us-i95-boston-newyork', description: 'I-95 southbound, Boston to Hunts Point (Bronx), via Providence, New Haven, Stamford (~350 km)', spacingM: 700, wanderM: 250,
    waypoints: [
      [42.3400, -71.0650, 'Boston South End', 'pickup', 2700], [42.2200, -71.1500], [42.0700, -71.2400], [41.9400, -71.3200], [41.8800, -71.3800],
      [41.8240, -71.4128, 'Providence DC', 'delivery', 1800], [41.7300, -71.4600], [41.6300, -71.6200], [41.4600, -71.7800], [41.3700, -71.9500],
      [41.3500, -72.0600], [41.3550, -72.1000], [41.2950, -72.3600], [41.2900, -72.6000], [41.3000, -72.9250, 'New Haven', 'delivery', 1500],
      [41.2300, -73.0650], [41.1800, -73.1900, 'Bridgeport service plaza', 'waypoint', 900], [41.1150, -73.4100], [41.0500, -73.5400, 'Stamford', 'delivery', 1500],
      [41.0250, -73.6250], [41.0000, -73.6700], [40.9100, -73.7850], [40.8300, -73.8400], [40.8100, -73.8750, 'Hunts Point market', 'delivery', 2400],
    ],
  },
  {
    name: 'us-i35-dallas-san-antonio', description: 'I-35E/I-35 southbound, Dallas to San Antonio, via Waco and Austin (~440 km)', spacingM: 900, wanderM: 300,
    waypoints: [
      [32.7767, -96.7970, 'Dallas inland port', 'pickup', 2700], [32.7200, -96.8200], [32.6400, -96.8050], [32.4000, -96.8500], [32.1800, -96.8900],
      [32.0100, -97.1100], [31.8000, -97.0900], [31.5500, -97.1400, 'Waco DC', 'delivery', 1800], [31.3800, -97.2200], [31.1000, -97.3500],
      [31.0600, -97.4600, 'Belton truck stop', 'waypoint', 1800], [30.9500, -97.5400], [30.6300, -97.6800], [30.5100, -97.6800],
      [30.2700, -97.7400, 'Austin', 'delivery', 1800], [30.0800, -97.8400], [29.9900, -97.8800], [29.8800, -97.9400], [29.7000, -98.1200],
      [29.5900, -98.3100], [29.4241, -98.4936, 'San Antonio', 'delivery', 2400],
    ],
  },
  {
    name: 'fr-a6-paris-lyon', description: "A6 Autoroute du Soleil, Rungis to Lyon Port Édouard Herriot, via Auxerre, Beaune, Mâcon (~465 km)", spacingM: 900, wanderM: 300,
    waypoints: [
      [48.7500, 2.3500, 'Rungis MIN', 'pickup', 2700], [48.6200, 2.4300], [48.3700, 2.5700], [48.2700, 2.6900], [48.0400, 3.0500],
      [47.8000, 3.5700, 'Auxerre aire', 'waypoint', 1200], [47.4900, 3.9000], [47.2600, 4.5500], [47.0260, 4.8400, 'Beaune', 'delivery', 1800],
      [46.7800, 4.8500], [46.5600, 4.9100], [46.3100, 4.8300, 'Mâcon', 'delivery', 1500], [45.9900, 4.7200], [45.7300, 4.8400, 'Lyon Port Édouard Herriot', 'delivery', 2400],
    ],
  },
  {
    name: 'nl-be-rotterdam-brussels', description: 'A15/A16/E19, Maasvlakte to Brussels, via Breda and Antwerp (~160 km)', spacingM: 400, wanderM: 150,
    waypoints: [
      [51.9600, 4.0500, 'Rotterdam Maasvlakte terminal', 'pickup', 3600], [51.8850, 4.2500], [51.8700, 4.3900], [51.8700, 4.6000], [51.8100, 4.6700],
      [51.7000, 4.6300], [51.5900, 4.7800, 'Breda', 'delivery', 1500], [51.4900, 4.7400], [51.3500, 4.6300], [51.2400, 4.4600, 'Antwerp', 'delivery', 1800],
      [51.0300, 4.4600], [50.9300, 4.4300], [50.8650, 4.3700, 'Brussels', 'delivery', 2400],
    ],
  },
  {
    name: 'de-berlin-city-deliveries', description: 'Urban multi-drop loop from the Großbeeren freight village through central Berlin and back (~70 km)', spacingM: 150, wanderM: 60, maxSpeedKmh: 50,
    waypoints: [
      [52.3550, 13.3100, 'Großbeeren GVZ depot', 'pickup', 2400], [52.4150, 13.3700], [52.4700, 13.3900, 'Tempelhof', 'delivery', 600],
      [52.4990, 13.4030], [52.5219, 13.4132, 'Alexanderplatz', 'delivery', 600], [52.5400, 13.4200], [52.5500, 13.3600, 'Wedding', 'delivery', 600],
      [52.5250, 13.3400], [52.5050, 13.3000, 'Charlottenburg', 'delivery', 600], [52.4850, 13.3150], [52.4550, 13.3200, 'Steglitz', 'delivery', 600],
      [52.4300, 13.3150], [52.3560, 13.3110, 'Großbeeren GVZ depot (returns)', 'delivery', 900],
    ],
  },
]
