// The river kind's console pages (the contract: /work/wt/CONSOLE_DESIGN.md, "The page-module
// contract"): the rivers map and list, a station's level chart, and the public page.

import publicPage from './public.js';
import rivers from './rivers.js';
import station from './station.js';
import strings from './strings.js';

export default [rivers, station, publicPage].map((page) => ({...page, strings}));
