// The river kind's console pages (the contract: /work/wt/CONSOLE_DESIGN.md, "The page-module
// contract"): the rivers map and list, a station's level chart, and the public page.

import publicPage from './public.js?v={{build}}';
import rivers from './rivers.js?v={{build}}';
import station from './station.js?v={{build}}';
import strings from './strings.js?v={{build}}';

export default [rivers, station, publicPage].map((page) => ({...page, strings}));
